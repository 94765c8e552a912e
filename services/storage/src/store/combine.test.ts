// Group commit of appends: concurrent callers share writes, and each still sees the
// MessageLog.append contract for its own messages (the store contract runs over it too).
import { ParleyError } from '@parley/core';
import { CombinedMessageLog } from './combine';
import { message, runStoreContract } from './contract';
import { MemoryConversationStore, MemoryMessageLog, MemoryPositionStore } from './memory';
import type { LoggedMessage } from './port';

runStoreContract('memory, appends combined', async () => ({
  conversations: new MemoryConversationStore(),
  log: new CombinedMessageLog(new MemoryMessageLog()),
  positions: new MemoryPositionStore(),
  close: async () => {},
}));

/** A memory log whose appends wait until released, recording what each write carried. */
class HeldLog extends MemoryMessageLog {
  readonly writes: LoggedMessage[][] = [];
  private gate: Promise<void> = Promise.resolve();
  private open: () => void = () => {};
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open();
  }
  override async append(messages: readonly LoggedMessage[]) {
    this.writes.push([...messages]);
    await this.gate;
    return super.append(messages);
  }
}

const run = (conversationId: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => message(conversationId, from + i));
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('CombinedMessageLog', () => {
  it('sends the appends that arrive while one is in flight together in the next write', async () => {
    const inner = new HeldLog();
    const log = new CombinedMessageLog(inner);
    inner.hold();
    const first = log.append(run('a', 1, 2));
    await flush();
    const waiting = [log.append(run('b', 1, 3)), log.append(run('c', 1, 1)), log.append(run('d', 1, 2))];
    inner.release();
    expect(await first).toEqual({ inserted: 2 });
    expect(await Promise.all(waiting)).toEqual([{ inserted: 3 }, { inserted: 1 }, { inserted: 2 }]);
    expect(inner.writes.map((w) => w.length)).toEqual([2, 6]);
    expect(inner.all('b').map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('answers each caller the conflict inside its own messages, and writes the callers after it in the next round', async () => {
    const inner = new HeldLog();
    const log = new CombinedMessageLog(inner);
    const stored = message('b', 2);
    await log.append([message('b', 1), stored]);
    inner.hold();
    const blocker = log.append(run('z', 1, 1));
    await flush();
    const resend = { ...stored, seq: 3 };
    const [a, b, c] = [log.append(run('a', 1, 2)), log.append([message('b', 3, { clientMsgId: 'x' }), resend, message('b', 4)]), log.append(run('c', 1, 2))];
    inner.release();
    await blocker;
    expect(await a).toEqual({ inserted: 2 });
    expect(await b).toEqual({ inserted: 1, conflict: { index: 1, existing: { ...stored } } });
    expect(await c).toEqual({ inserted: 2 });
    expect(inner.all('c').map((m) => m.seq)).toEqual([1, 2]);
    expect(inner.all('b').map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('keeps each caller within the bound, never splitting one caller', async () => {
    const inner = new HeldLog();
    const log = new CombinedMessageLog(inner, 4);
    inner.hold();
    const first = log.append(run('a', 1, 1));
    await flush();
    const rest = [log.append(run('b', 1, 3)), log.append(run('c', 1, 3)), log.append(run('d', 1, 6))];
    inner.release();
    await Promise.all([first, ...rest]);
    expect(inner.writes.map((w) => w.length)).toEqual([1, 3, 3, 6]);
  });

  it('fails only the caller whose messages the database refuses: a failed combined write is tried again one caller at a time', async () => {
    const inner = new HeldLog();
    const log = new CombinedMessageLog(inner);
    const poison = 'body the database refuses';
    const refuse = jest.spyOn(inner, 'append');
    refuse.mockImplementation(async (messages) => {
      inner.writes.push([...messages]);
      if (messages.some((m) => m.body === poison)) throw new ParleyError('INVALID_ARGUMENT', 'the database refuses this document', { retryable: false });
      return MemoryMessageLog.prototype.append.call(inner, messages);
    });
    inner.hold();
    const held = log.append(run('z', 1, 1));
    await flush();
    const results = await Promise.allSettled([log.append(run('a', 1, 2)), log.append([message('p', 1, { body: poison })]), log.append(run('c', 1, 1))]);
    inner.release();
    await held;
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(inner.all('a').map((m) => m.seq)).toEqual([1, 2]);
    expect(inner.all('c').map((m) => m.seq)).toEqual([1]);
  });
});
