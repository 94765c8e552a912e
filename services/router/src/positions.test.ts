import { MemoryBus, receiptsRecords, type OutgoingRecord } from '@parley/bus';
import { ParleyError } from '@parley/core';
import { LocalRateLimiter } from '@parley/limits';
import type { ReceiptRequest__Output } from '@parley/proto';
import { MAX_RECEIPT_BATCH, routeReceiptBatch, type PositionDeps } from './positions';
import type { SendAuthorizer } from './router';

const RECEIPTS = 'test.receipts';

class Members implements SendAuthorizer {
  readonly conversations = new Map<string, Set<string>>([
    ['g_team', new Set(['alice', 'bob'])],
    ['g_other', new Set(['carol'])],
  ]);
  async isMember(conversationId: string, userId: string): Promise<{ exists: boolean; member: boolean }> {
    const members = this.conversations.get(conversationId);
    return { exists: members !== undefined, member: members?.has(userId) ?? false };
  }
}

function harness() {
  const bus = new MemoryBus(4);
  bus.createTopic(RECEIPTS);
  const published: OutgoingRecord[][] = [];
  const publish = bus.publish.bind(bus);
  jest.spyOn(bus, 'publish').mockImplementation(async (topic, records) => {
    published.push(records);
    return publish(topic, records);
  });
  const deps: PositionDeps = { bus, receiptsTopic: RECEIPTS, signalsTopic: 'test.signals', membership: new Members(), signalLimiter: new LocalRateLimiter({ ratePerSec: 1, burst: 1 }), now: () => 7 };
  return { bus, deps, published };
}

const receipt = (userId: string, conversationId: string, seq: number, kind = 'delivered'): ReceiptRequest__Output => ({ userId, deviceId: 'phone', conversationId, kind, seq });

afterEach(() => jest.restoreAllMocks());

describe('routeReceiptBatch', () => {
  it('produces every valid position of many devices and conversations in one produce, and answers each one in order', async () => {
    const h = harness();
    const res = await routeReceiptBatch(h.deps, {
      receipts: [receipt('alice', 'g_team', 3), receipt('mallory', 'g_team', 1), receipt('carol', 'g_other', 2, 'read'), receipt('bob', 'g_nope', 1), receipt('bob', 'g_team', 0), receipt('bob', 'g_team', 4, 'seen')],
    });
    expect(res.results!.map((r) => r.errorCode)).toEqual(['', 'PERMISSION_DENIED', '', 'NOT_FOUND', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT']);
    expect(res.results!.every((r) => r.retryable === false)).toBe(true);
    expect(h.published).toHaveLength(1);
    expect(h.published[0]!.map((r) => receiptsRecords.decode(Buffer.from(r.value)).receipt)).toEqual([
      { conversationId: 'g_team', userId: 'alice', deviceId: 'phone', kind: 'delivered', seq: 3, at: 7 },
      { conversationId: 'g_other', userId: 'carol', deviceId: 'phone', kind: 'read', seq: 2, at: 7 },
    ]);
  });

  it('produces nothing when nothing is valid, and refuses a batch past the bound as a whole', async () => {
    const h = harness();
    expect((await routeReceiptBatch(h.deps, { receipts: [receipt('mallory', 'g_team', 1)] })).results!.map((r) => r.errorCode)).toEqual(['PERMISSION_DENIED']);
    expect(h.published).toEqual([]);
    await expect(routeReceiptBatch(h.deps, { receipts: Array.from({ length: MAX_RECEIPT_BATCH + 1 }, (_, i) => receipt('alice', 'g_team', i + 1)) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fails as a whole, retryable, when the produce fails (nothing of it was made durable)', async () => {
    const h = harness();
    jest.spyOn(h.bus, 'publish').mockRejectedValue(new ParleyError('UNAVAILABLE', 'kafka down'));
    await expect(routeReceiptBatch(h.deps, { receipts: [receipt('alice', 'g_team', 1)] })).rejects.toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
