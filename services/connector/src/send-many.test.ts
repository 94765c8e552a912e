import { ParleyError } from '@parley/core';
import type { SendBatchResponse__Output } from '@parley/proto';
import { MANY_MAX_BATCHES, SendCoalescer, type SendBatch, type SendManyAnswer } from './send-many';

const batch = (senderId: string, conversationId: string, n = 1): SendBatch => ({
  senderId,
  senderDeviceId: 'phone',
  conversationId,
  items: Array.from({ length: n }, (_, i) => ({ clientMsgId: `${senderId}-${i}`, body: 'hi' })),
});

const ok = (b: SendBatch) => ({
  response: { results: b.items.map((it) => ({ clientMsgId: it.clientMsgId, serverMsgId: `m-${it.clientMsgId}`, sentAt: 1, errorCode: '', errorMessage: '', retryable: false })) } as SendBatchResponse__Output,
  errorCode: '',
  errorMessage: '',
  retryable: false,
});

describe('SendCoalescer', () => {
  it('sends the batches of one turn in one call and hands each its own answer or error', async () => {
    const calls: SendBatch[][] = [];
    const coalescer = new SendCoalescer(async (batches) => {
      calls.push(batches);
      return { results: batches.map((b) => (b.senderId === 'mallory' ? { errorCode: 'PERMISSION_DENIED', errorMessage: 'not a member of this conversation', retryable: false } : ok(b))) };
    });
    const results = await Promise.allSettled([coalescer.send(batch('alice', 'g_1', 2)), coalescer.send(batch('mallory', 'g_1')), coalescer.send(batch('bob', 'g_2'))]);
    expect(calls.map((c) => c.map((b) => b.senderId))).toEqual([['alice', 'mallory', 'bob']]);
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { results: [{ serverMsgId: 'm-alice-0' }, { serverMsgId: 'm-alice-1' }] } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'PERMISSION_DENIED', retryable: false } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { results: [{ serverMsgId: 'm-bob-0' }] } });
    // A later turn is a later call.
    await coalescer.send(batch('carol', 'g_3'));
    expect(calls).toHaveLength(2);
  });

  it('fails every batch of a call that failed, with its error', async () => {
    const coalescer = new SendCoalescer(async () => {
      throw new ParleyError('UNAVAILABLE', 'router down');
    });
    const results = await Promise.allSettled([coalescer.send(batch('alice', 'g_1')), coalescer.send(batch('bob', 'g_2'))]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as ParleyError).code : 'ok'))).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
  });

  it('splits a turn past the bounds (batches, sends, body bytes) into several calls, never splitting a batch', async () => {
    const sizes: number[] = [];
    const coalescer = new SendCoalescer(async (batches): Promise<SendManyAnswer> => {
      sizes.push(batches.length);
      return { results: batches.map(ok) };
    });
    await Promise.all(Array.from({ length: MANY_MAX_BATCHES + 10 }, (_, i) => coalescer.send(batch(`u${i}`, `g_${i}`))));
    expect(sizes).toEqual([MANY_MAX_BATCHES, 10]);
    sizes.length = 0;
    await Promise.all(Array.from({ length: 20 }, (_, i) => coalescer.send(batch(`v${i}`, `g_${i}`, 64))));
    expect(sizes).toEqual([16, 4]);
    // Bodies count too: ten batches of 64 bodies of 16 KB (1 MiB each) go in calls of at most 4 MiB.
    sizes.length = 0;
    const big = (i: number): SendBatch => ({ ...batch(`w${i}`, `g_${i}`, 64), items: Array.from({ length: 64 }, (_, j) => ({ clientMsgId: `w${i}-${j}`, body: 'x'.repeat(16_384) })) });
    await Promise.all(Array.from({ length: 10 }, (_, i) => coalescer.send(big(i))));
    expect(sizes).toEqual([4, 4, 2]);
  });
});
