import { CallQueue } from './call-queue';
import { ParleyError } from './errors';

describe('CallQueue', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const options = { maxInflight: 2, maxQueued: 2, retryAfterMs: 750, name: 'storage' };
  /** A call that finishes when told to, recording the deadline it was given. */
  function controllable() {
    const started: { remainingMs: number; finish: (v: string) => void; fail: (e: unknown) => void }[] = [];
    const call = (remainingMs: number) => new Promise<string>((finish, fail) => started.push({ remainingMs, finish, fail }));
    return { started, call };
  }

  it('runs at most maxInflight at once and starts the waiting ones in order as slots free', async () => {
    const q = new CallQueue(options);
    const { started, call } = controllable();
    const results = [q.run(5_000, call), q.run(5_000, call), q.run(5_000, call), q.run(5_000, call)];
    expect(started).toHaveLength(2);
    expect(q.depth).toEqual({ inflight: 2, queued: 2 });
    jest.advanceTimersByTime(1_000);
    started[1]!.finish('b');
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toHaveLength(3);
    // It waited 1 s of its 5: the call gets what is left.
    expect(started[2]!.remainingMs).toBe(4_000);
    started[0]!.finish('a');
    started[2]!.finish('c');
    await Promise.resolve();
    await Promise.resolve();
    started[3]!.finish('d');
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(q.depth).toEqual({ inflight: 0, queued: 0 });
  });

  it('refuses at once, retryable with a wait, when the queue is full; never starts the refused call', async () => {
    const q = new CallQueue(options);
    const { started, call } = controllable();
    for (let i = 0; i < 4; i++) void q.run(5_000, call).catch(() => undefined);
    const refused = q.run(5_000, call);
    await expect(refused).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true, retryAfterMs: 750 });
    expect(started).toHaveLength(2);
  });

  it('gives up on a waiting call at its deadline without making it, and hands the slot to the next live one', async () => {
    const q = new CallQueue(options);
    const { started, call } = controllable();
    void q.run(5_000, call);
    void q.run(5_000, call);
    const expires = q.run(1_000, call);
    const lives = q.run(10_000, call);
    jest.advanceTimersByTime(1_000);
    await expect(expires).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    started[0]!.finish('a');
    await Promise.resolve();
    await Promise.resolve();
    expect(started).toHaveLength(3);
    started[2]!.finish('live');
    await expect(lives).resolves.toBe('live');
  });

  it('frees the slot of a call that throws or rejects', async () => {
    const q = new CallQueue({ ...options, maxInflight: 1 });
    await expect(q.run(1_000, () => { throw new ParleyError('INTERNAL', 'boom'); })).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(q.run(1_000, () => Promise.reject(new ParleyError('UNAVAILABLE', 'down')))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(q.run(1_000, async () => 'ok')).resolves.toBe('ok');
    expect(q.depth).toEqual({ inflight: 0, queued: 0 });
  });
});
