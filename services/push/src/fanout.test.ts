import { PoisonRecordError, deliveriesRecords, signalsRecords, type ConsumedBatch, type ConsumedRecord, type DeliveriesEntry, type ValidMembershipChange, type ValidReceipt, type ValidRejection, type ValidSignal, type ValidStored } from '@parley/bus';
import { ParleyError, createLogger, directConversationId } from '@parley/core';
import { MemberListCache } from '@parley/membership';
import type { DeliverRequest, DeliverResponse__Output, DeviceTarget, ListMembersRequest__Output, ListMembersResponse__Output } from '@parley/proto';
import { MemorySessionDirectory, type SessionRecord } from '@parley/sessions';
import { Fanout, RECEIPTS_TO_MEMBERS_UP_TO, type ConnectorDeliverer, type FanoutMetrics, type FanoutOptions } from './fanout';

const log = createLogger('push-test', 'test', 'silent');
const C1 = '10.0.0.1:7000';
const C2 = '10.0.0.2:7000';
const C3 = '10.0.0.3:7000';
const TTL = 60_000;
const AT = 1_764_100_000_000;

type Behaviour = (attempt: number, request: DeliverRequest) => DeliverResponse__Output | Error;

const writeAll: Behaviour = (_attempt, request) => ({ written: (request.deliveries ?? []).reduce((n, d) => n + (d.targets ?? []).length, 0), missing: [] });

/**
 * A fake of our own ConnectorDeliverer port: records every call, answers as told per
 * address, and notes how many calls to one address were ever under way at once.
 */
class FakeConnectors implements ConnectorDeliverer {
  readonly calls: { address: string; request: DeliverRequest }[] = [];
  readonly maxInFlight = new Map<string, number>();
  maxInFlightOverall = 0;
  private readonly inFlight = new Map<string, number>();
  private inFlightOverall = 0;
  private readonly behaviours = new Map<string, Behaviour>();

  on(address: string, behaviour: Behaviour): void {
    this.behaviours.set(address, behaviour);
  }

  callsTo(address: string): DeliverRequest[] {
    return this.calls.filter((c) => c.address === address).map((c) => c.request);
  }

  async deliver(address: string, request: DeliverRequest): Promise<DeliverResponse__Output> {
    this.calls.push({ address, request });
    const attempt = this.callsTo(address).length;
    const now = (this.inFlight.get(address) ?? 0) + 1;
    this.inFlight.set(address, now);
    this.maxInFlight.set(address, Math.max(this.maxInFlight.get(address) ?? 0, now));
    this.maxInFlightOverall = Math.max(this.maxInFlightOverall, ++this.inFlightOverall);
    try {
      // Answer on a later turn, as a network call does, so overlapping calls would show.
      await new Promise((resolve) => setImmediate(resolve));
      const answer = (this.behaviours.get(address) ?? writeAll)(attempt, request);
      if (answer instanceof Error) throw answer;
      return answer;
    } finally {
      this.inFlight.set(address, (this.inFlight.get(address) ?? 1) - 1);
      this.inFlightOverall--;
    }
  }
}

/** A fake of the Storage client's ListMembers: members in user id order, in pages. */
class FakeStorage {
  readonly requests: ListMembersRequest__Output[] = [];
  failNext: Error | undefined;
  private readonly conversations = new Map<string, string[]>();

  constructor(private readonly pageSize = 2) {}

  set(conversationId: string, userIds: string[]): void {
    this.conversations.set(conversationId, [...userIds].sort());
  }

  async listMembers(request: ListMembersRequest__Output): Promise<ListMembersResponse__Output> {
    this.requests.push(request);
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    const all = this.conversations.get(request.conversationId);
    if (!all) throw new ParleyError('NOT_FOUND', `no conversation ${request.conversationId}`);
    const limit = Math.min(request.limit || this.pageSize, this.pageSize);
    const rest = all.filter((u) => u > request.afterUserId);
    return { userIds: rest.slice(0, limit), hasMore: rest.length > limit };
  }

  /** Conversations whose first page was asked for (one per load). */
  loads(): string[] {
    return this.requests.filter((r) => r.afterUserId === '').map((r) => r.conversationId);
  }
}

/** The loader push's main.ts gives its MemberListCache: every page of Storage.ListMembers; a conversation that is gone has nobody. */
function membersFrom(storage: FakeStorage): (conversationId: string) => Promise<string[]> {
  return async (conversationId) => {
    const all: string[] = [];
    for (let after = ''; ; ) {
      const page = await storage.listMembers({ conversationId, afterUserId: after, limit: 100_000 }).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'NOT_FOUND') return { userIds: [], hasMore: false };
        throw err;
      });
      all.push(...page.userIds);
      if (!page.hasMore || page.userIds.length === 0) return all;
      after = page.userIds[page.userIds.length - 1]!;
    }
  };
}

class Harness {
  now = AT;
  readonly sessions = new MemorySessionDirectory(() => this.now);
  readonly connectors = new FakeConnectors();
  readonly storage: FakeStorage;
  readonly members: MemberListCache;
  readonly counts = { delivered: 0, offline: 0, connectorFailed: 0 };
  readonly latencies: number[] = [];
  readonly metrics: FanoutMetrics = {
    delivered: (n) => (this.counts.delivered += n),
    offline: (n) => (this.counts.offline += n),
    connectorFailed: () => this.counts.connectorFailed++,
    messageLatency: (seconds) => this.latencies.push(seconds),
  };

  constructor(pageSize = 2) {
    this.storage = new FakeStorage(pageSize);
    this.members = new MemberListCache(membersFrom(this.storage), { now: () => this.now });
  }

  fanout(attempts = 3, options: Partial<FanoutOptions> = {}): Fanout {
    return new Fanout(this.sessions, this.connectors, this.members, log, { attempts, retryDelayMs: 0, now: () => this.now, ...options }, this.metrics);
  }

  async connect(userId: string, deviceId: string, address: string, ttlMs = TTL): Promise<SessionRecord> {
    const session = { userId, deviceId, sessionId: `s_${userId}_${deviceId}_${address}`, connectorId: `connector-${address}`, address };
    await this.sessions.register(session, ttlMs);
    return session;
  }
}

function stored(conversationId: string, seq: number, senderId = 'alice', senderDeviceId = 'phone'): ValidStored {
  return { serverMsgId: `m_${conversationId}_${seq}`, conversationId, seq, senderId, senderDeviceId, clientMsgId: `c${seq}`, body: `message ${seq}`, sentAt: AT + seq };
}

const message = (conversationId: string, seq: number, senderId?: string, senderDeviceId?: string): DeliveriesEntry => ({ kind: 'message', message: stored(conversationId, seq, senderId, senderDeviceId) });
const membership = (conversationId: string, change: 'added' | 'removed', userIds: string[]): DeliveriesEntry => ({ kind: 'membership', change: { conversationId, change, userIds, at: AT } });

let offset = 0;
function record(value: DeliveriesEntry | string, topic = 'test.deliveries'): ConsumedRecord {
  return {
    topic,
    partition: 0,
    offset: String(offset++),
    key: 'k',
    value: Buffer.from(typeof value === 'string' ? value : deliveriesRecords.encode(value)),
    headers: {},
  };
}

function batch(values: (DeliveriesEntry | string)[]): ConsumedBatch {
  return { topic: 'test.deliveries', partition: 0, records: values.map((v) => record(v)), isActive: () => true };
}

function signalBatch(signals: ValidSignal[]): ConsumedBatch {
  return { topic: 'test.signals', partition: 0, records: signals.map((signal) => record(signalsRecords.encode({ kind: 'signal', signal }), 'test.signals')), isActive: () => true };
}

const targetsOf = (request: DeliverRequest): [number, DeviceTarget[]][] => (request.deliveries ?? []).map((d) => [Number(d.message?.seq), d.targets ?? []]);
const byDevice = (a: DeviceTarget, b: DeviceTarget) => `${a.userId}/${a.deviceId}`.localeCompare(`${b.userId}/${b.deviceId}`);
/** Which message seqs (messages only) each device was handed, over all calls, in call order. */
function seqsByDevice(h: Harness): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { request } of h.connectors.calls) {
    for (const d of request.deliveries ?? []) {
      if (!d.message) continue;
      for (const t of d.targets ?? []) {
        const key = `${t.userId}/${t.deviceId}`;
        out.set(key, [...(out.get(key) ?? []), Number(d.message?.seq)]);
      }
    }
  }
  return out;
}

describe('Fanout: targeting', () => {
  it('sends every device of every member, the sender’s own devices included, grouped by connector', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob', 'carol']);
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C2);
    await h.connect('bob', 'phone', C1);
    await h.connect('bob', 'tablet', C1);
    await h.connect('dave', 'phone', C3); // not a member
    const entry = message('g_team', 1, 'alice', 'phone');
    await h.fanout().handleBatch(batch([entry]));

    expect(h.connectors.calls.map((c) => c.address).sort()).toEqual([C1, C2]);
    const [toC1] = h.connectors.callsTo(C1);
    expect(toC1!.deliveries).toHaveLength(1);
    expect(toC1!.deliveries![0]!.message).toEqual(stored('g_team', 1, 'alice', 'phone'));
    expect([...toC1!.deliveries![0]!.targets!].sort(byDevice)).toEqual([
      { userId: 'alice', deviceId: 'phone' },
      { userId: 'bob', deviceId: 'phone' },
      { userId: 'bob', deviceId: 'tablet' },
    ]);
    expect(targetsOf(h.connectors.callsTo(C2)[0]!)).toEqual([[1, [{ userId: 'alice', deviceId: 'laptop' }]]]);
    expect(h.counts).toEqual({ delivered: 4, offline: 1, connectorFailed: 0 });
  });

  it('makes one batched Deliver per connector for a whole batch, keeping record (seq) order', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    h.storage.set('g_pair', ['alice', 'carol']);
    h.storage.set('g_bob', ['bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.connect('carol', 'phone', C1);
    await h.fanout().handleBatch(batch([message('g_team', 1), message('g_pair', 1), message('g_team', 2), message('g_bob', 1), message('g_team', 3)]));

    expect(h.connectors.calls).toHaveLength(2);
    const toC1 = h.connectors.callsTo(C1);
    const toC2 = h.connectors.callsTo(C2);
    expect(toC1).toHaveLength(1);
    expect(toC2).toHaveLength(1);
    expect(toC1[0]!.deliveries!.map((d) => [d.message?.conversationId, d.message?.seq])).toEqual([
      ['g_team', 1],
      ['g_pair', 1],
      ['g_team', 2],
      ['g_team', 3],
    ]);
    expect(toC1[0]!.deliveries![1]!.targets).toEqual([
      { userId: 'alice', deviceId: 'phone' },
      { userId: 'carol', deviceId: 'phone' },
    ]);
    expect(toC2[0]!.deliveries!.map((d) => [d.message?.conversationId, d.message?.seq])).toEqual([
      ['g_team', 1],
      ['g_team', 2],
      ['g_bob', 1],
      ['g_team', 3],
    ]);
    for (const d of toC2[0]!.deliveries!) expect(d.targets).toEqual([{ userId: 'bob', deviceId: 'phone' }]);
  });

  it('skips members without a live session and calls no one when nobody is online', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(h.connectors.calls).toEqual([]);
    expect(h.counts.offline).toBe(2);
  });

  it('does not target a session whose TTL ran out', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1, 1_000);
    await h.connect('alice', 'laptop', C2, 10_000);
    h.now += 5_000;
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(h.connectors.calls.map((c) => c.address)).toEqual([C2]);
  });

  it('targets a device where it is now after it moved to another connector', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    const old = await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'phone', C2);
    // The old connector's late unregister does not drop the new session.
    expect(await h.sessions.unregister(old)).toBe(false);
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(h.connectors.calls.map((c) => c.address)).toEqual([C2]);
  });

  it('delivers a read receipt to all but the reading device, and a delivered receipt to the other members only', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C1);
    await h.connect('bob', 'tablet', C2);
    const read: ValidReceipt = { conversationId: 'g_team', userId: 'bob', deviceId: 'phone', kind: 'read', seq: 4, at: AT };
    const delivered: ValidReceipt = { ...read, kind: 'delivered' };
    await h.fanout().handleBatch(batch([{ kind: 'receipt', receipt: read }, { kind: 'receipt', receipt: delivered }]));

    const [toC1] = h.connectors.callsTo(C1);
    expect(toC1!.deliveries).toEqual([
      { receipt: read, targets: [{ userId: 'alice', deviceId: 'phone' }] },
      { receipt: delivered, targets: [{ userId: 'alice', deviceId: 'phone' }] },
    ]);
    // The reader's other device clears its badge; nothing of the delivered receipt goes to bob.
    expect(h.connectors.callsTo(C2)).toEqual([{ deliveries: [{ receipt: read, targets: [{ userId: 'bob', deviceId: 'tablet' }] }] }]);
  });

  it('in a conversation larger than RECEIPTS_TO_MEMBERS_UP_TO, sends a receipt only to the member\'s own other devices (no N² frames)', async () => {
    const h = new Harness();
    const members = Array.from({ length: RECEIPTS_TO_MEMBERS_UP_TO + 1 }, (_, i) => `m${i}`);
    h.storage.set('g_big', members);
    await h.connect('m0', 'phone', C1);
    await h.connect('m0', 'tablet', C2);
    await h.connect('m1', 'phone', C1);
    const read: ValidReceipt = { conversationId: 'g_big', userId: 'm0', deviceId: 'phone', kind: 'read', seq: 4, at: AT };
    await h.fanout().handleBatch(batch([{ kind: 'receipt', receipt: read }, { kind: 'receipt', receipt: { ...read, kind: 'delivered' } }]));
    expect(h.connectors.callsTo(C1)).toEqual([]);
    expect(h.connectors.callsTo(C2)).toEqual([{ deliveries: [{ receipt: read, targets: [{ userId: 'm0', deviceId: 'tablet' }] }] }]);
    // At the threshold, receipts still go to the other members.
    h.storage.set('g_small', members.slice(0, RECEIPTS_TO_MEMBERS_UP_TO));
    await h.fanout().handleBatch(batch([{ kind: 'receipt', receipt: { ...read, conversationId: 'g_small' } }]));
    expect(h.connectors.callsTo(C1).at(-1)?.deliveries?.[0]?.targets).toEqual([{ userId: 'm1', deviceId: 'phone' }]);
  });

  it('delivers a signal (parley.signals) to every member device but the sending one, with no member list on the wire', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C1);
    await h.connect('bob', 'phone', C2);
    const typing: ValidSignal = { conversationId: 'g_team', senderId: 'alice', senderDeviceId: 'phone', kind: 'typing', data: '{"on":true}', sentAt: AT };
    await h.fanout().handleSignals(signalBatch([typing]));

    expect(h.connectors.callsTo(C1)).toEqual([{ deliveries: [{ signal: { ...typing, memberIds: [] }, targets: [{ userId: 'alice', deviceId: 'laptop' }] }] }]);
    expect(h.connectors.callsTo(C2)).toEqual([{ deliveries: [{ signal: { ...typing, memberIds: [] }, targets: [{ userId: 'bob', deviceId: 'phone' }] }] }]);
  });

  it('does nothing for an empty batch', async () => {
    const h = new Harness();
    await h.fanout().handleBatch(batch([]));
    await h.fanout().handleSignals(signalBatch([]));
    expect(h.connectors.calls).toEqual([]);
    expect(h.storage.requests).toEqual([]);
  });
});

describe('Fanout: bots', () => {
  it("delivers a bot's message to every member's devices; the bot allowed in the same stream is no audience, and its rejection goes nowhere", async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    // No socket can be a bot (tokens naming one are refused); were one registered, push would still not target it.
    await h.connect('bot:support', 'k1234567890abcde', C1);
    const rejected: ValidRejection = { conversationId: 'g_team', serverMsgId: 'm_x', clientMsgId: 's9', senderId: 'bot:support', senderDeviceId: 'k1234567890abcde', code: 'PERMISSION_DENIED', reason: 'not allowed' };
    await h.fanout().handleBatch(
      batch([membership('g_team', 'added', ['bot:support']), message('g_team', 1, 'bot:support', 'k1234567890abcde'), message('g_team', 2, 'alice'), { kind: 'rejected', rejection: rejected }]),
    );

    expect(seqsByDevice(h)).toEqual(
      new Map([
        ['alice/phone', [1, 2]],
        ['bob/phone', [1, 2]],
      ]),
    );
    const toC1 = h.connectors.callsTo(C1).flatMap((c) => c.deliveries ?? []);
    expect(toC1.every((d) => d.targets!.every((t) => t.userId === 'alice'))).toBe(true);
    expect(toC1.map((d) => d.message?.senderId)).toEqual(['bot:support', 'alice']);
    // Nobody counted offline: the bot is no member and its refused send has no audience.
    expect(h.counts.offline).toBe(0);
  });
});

describe('Fanout: rejections', () => {
  const rejection: ValidRejection = { conversationId: 'g_team', serverMsgId: 'm_rejected', clientMsgId: 'c9', senderId: 'alice', senderDeviceId: 'phone', code: 'PERMISSION_DENIED', reason: 'not a member' };

  it('delivers a rejection to the sending device only: not the sender’s other devices, not the members', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C1);
    await h.connect('bob', 'phone', C1);
    await h.connect('carol', 'phone', C2);
    await h.fanout().handleBatch(batch([{ kind: 'rejected', rejection }, message('g_team', 1, 'bob')]));

    expect(h.connectors.calls.map((c) => c.address)).toEqual([C1]);
    const [toC1] = h.connectors.callsTo(C1);
    expect(toC1!.deliveries![0]).toEqual({ rejected: rejection, targets: [{ userId: 'alice', deviceId: 'phone' }] });
    expect([...toC1!.deliveries![1]!.targets!].sort(byDevice)).toEqual([
      { userId: 'alice', deviceId: 'laptop' },
      { userId: 'alice', deviceId: 'phone' },
      { userId: 'bob', deviceId: 'phone' },
    ]);
  });

  it('reaches a sender who is not a member, without asking storage for the members', async () => {
    const h = new Harness();
    await h.connect('mallory', 'phone', C2);
    await h.connect('mallory', 'laptop', C2);
    const notFound: ValidRejection = { ...rejection, conversationId: 'g_gone', senderId: 'mallory', code: 'NOT_FOUND', reason: 'no such conversation' };
    await h.fanout().handleBatch(batch([{ kind: 'rejected', rejection: notFound }]));

    expect(h.connectors.callsTo(C2)).toEqual([{ deliveries: [{ rejected: notFound, targets: [{ userId: 'mallory', deviceId: 'phone' }] }] }]);
    expect(h.storage.requests).toEqual([]);
  });
});

describe('Fanout: members from the member-list cache', () => {
  it('takes a direct conversation\'s members from its message record (proven by the id) and loads nothing for it, nor for its receipts', async () => {
    const h = new Harness(2);
    const direct = directConversationId('alice', 'bob');
    h.storage.set(direct, ['alice', 'bob']);
    for (const u of ['alice', 'bob']) await h.connect(u, 'phone', C1);
    const fanout = h.fanout();
    await fanout.handleBatch(batch([{ kind: 'message', message: stored(direct, 1), members: ['bob', 'alice'] }]));
    await fanout.handleBatch(batch([{ kind: 'receipt', receipt: { conversationId: direct, userId: 'bob', deviceId: 'phone', kind: 'read', seq: 1, at: AT } }]));
    expect(h.storage.loads()).toEqual([]);
    expect(seqsByDevice(h)).toEqual(new Map([['alice/phone', [1]], ['bob/phone', [1]]]));
    // A pair that is not the id's is no proof: the members are loaded.
    const other = directConversationId('carol', 'dave');
    h.storage.set(other, ['carol', 'dave']);
    await fanout.handleBatch(batch([{ kind: 'message', message: stored(other, 1), members: ['carol', 'alice'] }]));
    expect(h.storage.loads()).toEqual([other]);
  });

  it('loads every page of Storage.ListMembers once and answers later batches from the cache', async () => {
    const h = new Harness(2);
    const everyone = ['alice', 'bob', 'carol', 'dave', 'erin'];
    h.storage.set('g_team', everyone);
    for (const u of everyone) await h.connect(u, 'phone', C1);
    const fanout = h.fanout();
    // Three items of one conversation in one batch: one load, not three.
    await fanout.handleBatch(batch([message('g_team', 1), message('g_team', 2), message('g_team', 3)]));
    expect(h.storage.loads()).toEqual(['g_team']);
    expect(h.storage.requests.map((r) => r.afterUserId)).toEqual(['', 'bob', 'dave']);

    await fanout.handleBatch(batch([message('g_team', 4)]));
    await h.fanout().handleSignals(signalBatch([{ conversationId: 'g_team', senderId: 'erin', senderDeviceId: 'phone', kind: 'typing', data: '', sentAt: AT }]));
    expect(h.storage.requests).toHaveLength(3);
    const seqs = seqsByDevice(h);
    for (const u of everyone) expect(seqs.get(`${u}/phone`)).toEqual([1, 2, 3, 4]);
    const signalled = h.connectors.calls.flatMap((c) => (c.request.deliveries ?? []).filter((d) => d.signal)).flatMap((d) => d.targets!.map((t) => t.userId));
    expect(signalled).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('keeps the cached list true with membership changes from the broadcast, without loading again', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C1);
    await h.connect('carol', 'phone', C1);
    const fanout = h.fanout();
    await fanout.handleBatch(batch([message('g_team', 1)]));
    const change: ValidMembershipChange = { conversationId: 'g_team', change: 'added', userIds: ['carol'], at: AT };
    h.members.apply(change);
    h.members.apply({ ...change, change: 'removed', userIds: ['bob'] });
    await fanout.handleBatch(batch([message('g_team', 2)]));

    expect(h.storage.loads()).toEqual(['g_team']);
    expect(seqsByDevice(h)).toEqual(
      new Map([
        ['alice/phone', [1, 2]],
        ['bob/phone', [1]],
        ['carol/phone', [2]],
      ]),
    );
  });

  it('delivers to nobody in a conversation storage does not know (NOT_FOUND), and completes the batch', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await expect(h.fanout().handleBatch(batch([message('g_gone', 1)]))).resolves.toBeUndefined();
    expect(h.connectors.calls).toEqual([]);
    expect(h.counts.offline).toBe(0);
  });

  it('fails the batch (so the bus retries it) when the members cannot be loaded, and does not cache the failure', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    h.storage.failNext = new ParleyError('UNAVAILABLE', 'storage down');
    await expect(h.fanout().handleBatch(batch([message('g_team', 1)]))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.connectors.calls).toEqual([]);
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(targetsOf(h.connectors.callsTo(C1)[0]!)).toEqual([[1, [{ userId: 'alice', deviceId: 'phone' }]]]);
  });

  it('takes the members from storage, not from the memberIds a record from before versioning carried', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.connect('mallory', 'phone', C1);
    await h.fanout().handleBatch(batch([JSON.stringify({ message: stored('g_team', 1), memberIds: ['alice', 'mallory'] })]));
    expect(targetsOf(h.connectors.callsTo(C1)[0]!)).toEqual([[1, [{ userId: 'alice', deviceId: 'phone' }]]]);
  });
});

describe('Fanout: membership changes in the batch split it into segments', () => {
  it('gives a member removed in the middle of a batch the messages before the change and none after', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.fanout().handleBatch(batch([message('g_team', 1), message('g_team', 2), membership('g_team', 'removed', ['bob']), message('g_team', 3), message('g_team', 4)]));

    expect(seqsByDevice(h)).toEqual(
      new Map([
        ['alice/phone', [1, 2, 3, 4]],
        ['bob/phone', [1, 2]],
      ]),
    );
    // Each segment is fanned out (and answered) before the next: alice's connector gets two calls, in order.
    expect(h.connectors.callsTo(C1).map(targetsOf).map((d) => d.map(([seq]) => seq))).toEqual([[1, 2], [3, 4]]);
    expect(h.storage.loads()).toEqual(['g_team']);
  });

  it('gives a member added in the middle of a batch only the messages after the change', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.connect('carol', 'phone', C1);
    await h.fanout().handleBatch(batch([message('g_team', 1), membership('g_team', 'added', ['carol']), message('g_team', 2)]));
    expect(seqsByDevice(h)).toEqual(
      new Map([
        ['alice/phone', [1, 2]],
        ['carol/phone', [2]],
      ]),
    );
  });

  it('applies a change to the cache even when it ends the batch, so the next batch sees it', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C1);
    const fanout = h.fanout();
    await fanout.handleBatch(batch([message('g_team', 1), membership('g_team', 'removed', ['bob'])]));
    await fanout.handleBatch(batch([message('g_team', 2)]));
    expect(seqsByDevice(h).get('bob/phone')).toEqual([1]);
    expect(seqsByDevice(h).get('alice/phone')).toEqual([1, 2]);
  });

  it('loads nothing and calls no one for a batch of membership changes only', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.fanout().handleBatch(batch([membership('g_team', 'added', ['bob']), membership('g_team', 'removed', ['bob'])]));
    expect(h.connectors.calls).toEqual([]);
    expect(h.storage.requests).toEqual([]);
  });
});

describe('Fanout: Deliver calls of bounded size', () => {
  it('splits a message to more than 20,000 devices into calls of at most 20,000 targets, one after another', async () => {
    const h = new Harness(10_000);
    const everyone = Array.from({ length: 25_001 }, (_, i) => `u${String(i).padStart(5, '0')}`);
    h.storage.set('g_big', everyone);
    for (const u of everyone) await h.connect(u, 'phone', C1);
    await h.connect('u00000', 'laptop', C2);
    await h.fanout().handleBatch(batch([message('g_big', 1, 'u00000', 'phone')]));

    expect(h.storage.requests).toHaveLength(3);
    const toC1 = h.connectors.callsTo(C1);
    expect(toC1.map((r) => r.deliveries!.map((d) => d.targets!.length))).toEqual([[20_000], [5_001]]);
    for (const r of toC1) expect(r.deliveries![0]!.message).toEqual(stored('g_big', 1, 'u00000', 'phone'));
    const delivered = toC1.flatMap((r) => r.deliveries!.flatMap((d) => d.targets!.map((t) => t.userId)));
    expect(new Set(delivered).size).toBe(25_001);
    expect(h.connectors.callsTo(C2)).toHaveLength(1);
    // One connector's calls go one after another (order); different connectors at once.
    expect(h.connectors.maxInFlight.get(C1)).toBe(1);
    expect(h.counts.delivered).toBe(25_002);
  });

  it('packs several deliveries into one call up to the limit and keeps their order across calls', async () => {
    const h = new Harness();
    h.storage.set('g_five', ['a1', 'a2', 'a3', 'a4', 'a5']);
    h.storage.set('g_two', ['a1', 'a2']);
    h.storage.set('g_one', ['a1']);
    for (const u of ['a1', 'a2', 'a3', 'a4', 'a5']) await h.connect(u, 'phone', C1);
    await h.fanout(3, { maxTargetsPerCall: 3 }).handleBatch(batch([message('g_one', 1), message('g_five', 1), message('g_one', 2), message('g_two', 1), message('g_one', 3)]));

    const shape = h.connectors.callsTo(C1).map((r) => r.deliveries!.map((d) => `${d.message!.conversationId}#${d.message!.seq}:${d.targets!.length}`));
    expect(shape).toEqual([['g_one#1:1'], ['g_five#1:3'], ['g_five#1:2', 'g_one#2:1'], ['g_two#1:2', 'g_one#3:1']]);
    expect(h.connectors.maxInFlight.get(C1)).toBe(1);
  });

  it('calls different connectors at the same time', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(h.connectors.maxInFlightOverall).toBe(2);
  });
});

describe('Fanout: malformed records', () => {
  const malformed: [string, string][] = [
    ['not JSON', '{nope'],
    ['no payload', JSON.stringify({ v: 1, memberIds: ['alice'] })],
    ['a null message', JSON.stringify({ v: 1, message: null })],
    ['seq 0', JSON.stringify({ v: 1, message: stored('g_team', 0) })],
    ['a string seq', JSON.stringify({ v: 1, message: { ...stored('g_team', 1), seq: '1' } })],
    ['a bad conversation id', JSON.stringify({ v: 1, message: stored('g team', 1) })],
    ['a membership change with a bad user id', JSON.stringify({ v: 1, membership: { conversationId: 'g_team', change: 'removed', userIds: ['a b'], at: AT } })],
    ['a version newer than this consumer reads', JSON.stringify({ v: 99, message: stored('g_team', 1) })],
    ['JSON null', 'null'],
  ];

  it.each(malformed)('refuses %s as a poison record naming it, and delivers nothing of the batch', async (_name, raw) => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    const b = batch([message('g_team', 1), raw, message('g_team', 2)]);
    const error = await h
      .fanout()
      .handleBatch(b)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(PoisonRecordError);
    // withDeadLetters parks exactly this record and lets the partition go on.
    expect((error as PoisonRecordError).record).toBe(b.records[1]);
    expect((error as PoisonRecordError).retryable).toBe(false);
    expect(h.connectors.calls).toEqual([]);
  });

  it('refuses a malformed signal the same way', async () => {
    const h = new Harness();
    const b: ConsumedBatch = { topic: 'test.signals', partition: 0, records: [record(JSON.stringify({ v: 1, signal: { conversationId: 'g_team', senderId: 'alice', senderDeviceId: 'phone', kind: 'NOT A KIND' } }), 'test.signals')], isActive: () => true };
    await expect(h.fanout().handleSignals(b)).rejects.toBeInstanceOf(PoisonRecordError);
    expect(h.connectors.calls).toEqual([]);
  });
});

describe('Fanout: connector failures', () => {
  async function twoConnectors(h: Harness): Promise<ConsumedBatch> {
    h.storage.set('g_team', ['alice', 'bob']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    return batch([message('g_team', 1)]);
  }

  it('retries a connector that fails transiently and completes when it answers', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    h.connectors.on(C1, (attempt, request) => (attempt < 3 ? new ParleyError('UNAVAILABLE', 'connection refused') : writeAll(attempt, request)));
    await h.fanout(3).handleBatch(b);
    const toC1 = h.connectors.callsTo(C1);
    expect(toC1).toHaveLength(3);
    // Every attempt carries the same request.
    expect(toC1[1]).toEqual(toC1[0]);
    expect(toC1[2]).toEqual(toC1[0]);
    expect(h.connectors.callsTo(C2)).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 2, offline: 0, connectorFailed: 0 });
  });

  it('gives up on a connector after the configured attempts and still completes the batch (its devices will sync)', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('DEADLINE_EXCEEDED', 'deadline exceeded'));
    await expect(h.fanout(4).handleBatch(b)).resolves.toBeUndefined();
    expect(h.connectors.callsTo(C1)).toHaveLength(4);
    // The healthy connector got its deliveries regardless.
    expect(h.connectors.callsTo(C2)).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 1 });
  });

  it('retries errors that carry no retryable flag, like any transport failure', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    h.connectors.on(C1, () => new Error('socket hang up'));
    await h.fanout(2).handleBatch(b);
    expect(h.connectors.callsTo(C1)).toHaveLength(2);
    expect(h.counts.connectorFailed).toBe(1);
  });

  it('does not retry a connector that refuses with a non-retryable error', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('INVALID_ARGUMENT', 'bad request'));
    await h.fanout(5).handleBatch(b);
    expect(h.connectors.callsTo(C1)).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 1 });
  });

  it('makes a single attempt when attempts is 1', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('UNAVAILABLE', 'down'));
    await h.fanout(1).handleBatch(b);
    expect(h.connectors.callsTo(C1)).toHaveLength(1);
    expect(h.counts.connectorFailed).toBe(1);
  });

  it('goes on with a failed connector’s later calls and later segments, and with the other connectors', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice', 'bob', 'carol']);
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C1);
    await h.connect('carol', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    h.connectors.on(C1, () => new ParleyError('UNAVAILABLE', 'gone'));
    await h
      .fanout(1, { maxTargetsPerCall: 2 })
      .handleBatch(batch([message('g_team', 1), membership('g_team', 'removed', ['carol']), message('g_team', 2)]));

    // Segment 1: three C1 targets in two calls; segment 2: two targets in one call. Each failed, each was tried.
    expect(h.connectors.callsTo(C1).map((r) => targetsOf(r).map(([seq, t]) => [seq, t.length]))).toEqual([[[1, 2]], [[1, 1]], [[2, 2]]]);
    expect(h.connectors.callsTo(C2).map(targetsOf)).toEqual([[[1, [{ userId: 'bob', deviceId: 'phone' }]]], [[2, [{ userId: 'bob', deviceId: 'phone' }]]]]);
    expect(h.counts).toEqual({ delivered: 2, offline: 0, connectorFailed: 3 });
  });

  it('fails the batch (so the bus retries it) when the session directory cannot be read', async () => {
    const h = new Harness();
    const b = await twoConnectors(h);
    jest.spyOn(h.sessions, 'lookup').mockRejectedValueOnce(new ParleyError('UNAVAILABLE', 'redis down'));
    await expect(h.fanout().handleBatch(b)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.connectors.calls).toEqual([]);
    // The retried batch goes through.
    await h.fanout().handleBatch(b);
    expect(h.connectors.calls.map((c) => c.address).sort()).toEqual([C1, C2]);
  });

  it('counts what connectors report written, not what was targeted', async () => {
    const h = new Harness();
    h.storage.set('g_team', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C1);
    // The laptop's socket is gone on the connector: it writes one frame and reports the other missing.
    h.connectors.on(C1, () => ({ written: 1, missing: [{ userId: 'alice', deviceId: 'laptop' }] }));
    await h.fanout().handleBatch(batch([message('g_team', 1)]));
    expect(h.connectors.calls).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 0 });
  });
});

describe('Fanout: end-to-end latency metric', () => {
  it('observes router-accept to connector-handoff time once per message per connector that took it, and none for a failed connector', async () => {
    const h = new Harness();
    h.storage.set('g_lat', ['alice', 'bob', 'carol']);
    h.storage.set('g_solo', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.connect('carol', 'phone', C3);
    h.connectors.on(C3, () => new ParleyError('UNAVAILABLE', 'gone'));
    const m1 = { ...stored('g_lat', 1), sentAt: h.now - 250 };
    const m2 = { ...stored('g_solo', 1), sentAt: h.now - 40 };
    await h.fanout(1).handleBatch(batch([{ kind: 'message', message: m1 }, { kind: 'message', message: m2 }]));
    expect([...h.latencies].sort()).toEqual([0.04, 0.25, 0.25]);
  });

  it('skips messages whose sentAt lies in the future (clock step between hosts)', async () => {
    const h = new Harness();
    h.storage.set('g_lat', ['alice']);
    await h.connect('alice', 'phone', C1);
    await h.fanout().handleBatch(batch([{ kind: 'message', message: { ...stored('g_lat', 1), sentAt: h.now + 5_000 } }]));
    expect(h.counts.delivered).toBe(1);
    expect(h.latencies).toEqual([]);
  });
});
