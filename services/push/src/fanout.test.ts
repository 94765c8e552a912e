import type { ConsumedBatch, ConsumedRecord } from '@parley/bus';
import { ParleyError, createLogger } from '@parley/core';
import type { DeliverRequest, DeliverResponse__Output, DeliveryRecord, DeviceTarget, StoredMessage } from '@parley/proto';
import { MemorySessionDirectory, type SessionRecord } from '@parley/sessions';
import { Fanout, parseDelivery, type ConnectorDeliverer, type FanoutMetrics } from './fanout';

const log = createLogger('push-test', 'test', 'silent');
const C1 = '10.0.0.1:7000';
const C2 = '10.0.0.2:7000';
const C3 = '10.0.0.3:7000';
const TTL = 60_000;

type Behaviour = (attempt: number, request: DeliverRequest) => DeliverResponse__Output | Error;

/** A fake of our own ConnectorDeliverer port: records every call; answers as told per address. */
class FakeConnectors implements ConnectorDeliverer {
  readonly calls: { address: string; request: DeliverRequest }[] = [];
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
    const answer = (this.behaviours.get(address) ?? writeAll)(attempt, request);
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const writeAll: Behaviour = (_attempt, request) => ({ written: (request.deliveries ?? []).reduce((n, d) => n + (d.targets ?? []).length, 0), missing: [] });

class Harness {
  now = 1_764_100_000_000;
  readonly sessions = new MemorySessionDirectory(() => this.now);
  readonly connectors = new FakeConnectors();
  readonly counts = { delivered: 0, offline: 0, connectorFailed: 0 };
  readonly latencies: number[] = [];
  readonly metrics: FanoutMetrics = {
    delivered: (n) => (this.counts.delivered += n),
    offline: (n) => (this.counts.offline += n),
    connectorFailed: () => this.counts.connectorFailed++,
    messageLatency: (seconds) => this.latencies.push(seconds),
  };

  fanout(attempts = 3): Fanout {
    return new Fanout(this.sessions, this.connectors, log, { attempts, retryDelayMs: 0, now: () => this.now }, this.metrics);
  }

  async connect(userId: string, deviceId: string, address: string, ttlMs = TTL): Promise<SessionRecord> {
    const session = { userId, deviceId, sessionId: `s_${userId}_${deviceId}_${address}`, connectorId: `connector-${address}`, address };
    await this.sessions.register(session, ttlMs);
    return session;
  }
}

function stored(conversationId: string, seq: number, senderId = 'alice', senderDeviceId = 'phone'): StoredMessage & { seq: number } {
  return { serverMsgId: `m_${conversationId}_${seq}`, conversationId, seq, senderId, senderDeviceId, clientMsgId: `c${seq}`, body: `message ${seq}`, sentAt: 1_764_100_000_000 + seq };
}

let offset = 0;
function record(value: DeliveryRecord | string): ConsumedRecord {
  return {
    topic: 'test.deliveries',
    partition: 0,
    offset: String(offset++),
    key: 'k',
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
  };
}

function batch(values: (DeliveryRecord | string)[]): ConsumedBatch {
  return { topic: 'test.deliveries', partition: 0, records: values.map(record), isActive: () => true };
}

const targetsOf = (request: DeliverRequest): [number, DeviceTarget[]][] => (request.deliveries ?? []).map((d) => [Number(d.message?.seq), d.targets ?? []]);
const byDevice = (a: DeviceTarget, b: DeviceTarget) => `${a.userId}/${a.deviceId}`.localeCompare(`${b.userId}/${b.deviceId}`);

describe('Fanout: targeting', () => {
  it('sends every device of every member, the sender’s own devices included, grouped by connector', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C2);
    await h.connect('bob', 'phone', C1);
    await h.connect('bob', 'tablet', C1);
    await h.connect('dave', 'phone', C3); // not a member
    const message = stored('g_team', 1, 'alice', 'phone');
    await h.fanout().handleBatch(batch([{ message, memberIds: ['alice', 'bob', 'carol'] }]));

    expect(h.connectors.calls.map((c) => c.address).sort()).toEqual([C1, C2]);
    const [toC1] = h.connectors.callsTo(C1);
    expect(toC1!.deliveries).toHaveLength(1);
    expect(toC1!.deliveries![0]!.message).toEqual(message);
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
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.connect('carol', 'phone', C1);
    const records: DeliveryRecord[] = [
      { message: stored('g_team', 1), memberIds: ['alice', 'bob'] },
      { message: stored('g_pair', 1), memberIds: ['alice', 'carol'] },
      { message: stored('g_team', 2), memberIds: ['alice', 'bob'] },
      { message: stored('g_bob', 1), memberIds: ['bob'] },
      { message: stored('g_team', 3), memberIds: ['alice', 'bob'] },
    ];
    await h.fanout().handleBatch(batch(records));

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
    await h.fanout().handleBatch(batch([{ message: stored('g_team', 1), memberIds: ['alice', 'bob'] }]));
    expect(h.connectors.calls).toEqual([]);
    expect(h.counts.offline).toBe(2);
  });

  it('does not target a session whose TTL ran out', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1, 1_000);
    await h.connect('alice', 'laptop', C2, 10_000);
    h.now += 5_000;
    await h.fanout().handleBatch(batch([{ message: stored('g_team', 1), memberIds: ['alice'] }]));
    expect(h.connectors.calls.map((c) => c.address)).toEqual([C2]);
  });

  it('targets a device where it is now after it moved to another connector', async () => {
    const h = new Harness();
    const old = await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'phone', C2);
    // The old connector's late unregister does not drop the new session.
    expect(await h.sessions.unregister(old)).toBe(false);
    await h.fanout().handleBatch(batch([{ message: stored('g_team', 1), memberIds: ['alice'] }]));
    expect(h.connectors.calls.map((c) => c.address)).toEqual([C2]);
  });

  it('ignores member ids that are not valid ids', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.fanout().handleBatch(batch([{ message: stored('g_team', 1), memberIds: ['alice', 'a b', '', 'x'.repeat(129)] }]));
    expect(targetsOf(h.connectors.callsTo(C1)[0]!)).toEqual([[1, [{ userId: 'alice', deviceId: 'phone' }]]]);
    expect(h.counts.offline).toBe(0);
  });
});

describe('Fanout: malformed records', () => {
  const malformed: [string, string][] = [
    ['not JSON', '{nope'],
    ['no message', JSON.stringify({ memberIds: ['alice'] })],
    ['a null message', JSON.stringify({ message: null, memberIds: ['alice'] })],
    ['seq 0', JSON.stringify({ message: stored('g_team', 0), memberIds: ['alice'] })],
    ['a string seq', JSON.stringify({ message: { ...stored('g_team', 1), seq: '1' }, memberIds: ['alice'] })],
    ['a bad conversation id', JSON.stringify({ message: stored('g team', 1), memberIds: ['alice'] })],
    ['memberIds not an array', JSON.stringify({ message: stored('g_team', 1), memberIds: 'alice' })],
    ['JSON null', 'null'],
  ];

  it.each(malformed)('parseDelivery refuses %s', (_name, raw) => {
    expect(parseDelivery(Buffer.from(raw))).toBeUndefined();
  });

  it('drops malformed records and delivers the rest', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.fanout().handleBatch(batch([...malformed.map(([, raw]) => raw), { message: stored('g_team', 7), memberIds: ['alice'] }]));
    expect(h.connectors.calls).toHaveLength(1);
    expect(targetsOf(h.connectors.calls[0]!.request)).toEqual([[7, [{ userId: 'alice', deviceId: 'phone' }]]]);
  });

  it('does nothing for a batch of malformed records only', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await expect(h.fanout().handleBatch(batch(malformed.map(([, raw]) => raw)))).resolves.toBeUndefined();
    expect(h.connectors.calls).toEqual([]);
  });
});

describe('Fanout: connector failures', () => {
  async function twoConnectors(h: Harness): Promise<DeliveryRecord[]> {
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    return [{ message: stored('g_team', 1), memberIds: ['alice', 'bob'] }];
  }

  it('retries a connector that fails transiently and completes when it answers', async () => {
    const h = new Harness();
    const records = await twoConnectors(h);
    h.connectors.on(C1, (attempt, request) => (attempt < 3 ? new ParleyError('UNAVAILABLE', 'connection refused') : writeAll(attempt, request)));
    await h.fanout(3).handleBatch(batch(records));
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
    const records = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('DEADLINE_EXCEEDED', 'deadline exceeded'));
    await expect(h.fanout(4).handleBatch(batch(records))).resolves.toBeUndefined();
    expect(h.connectors.callsTo(C1)).toHaveLength(4);
    // The healthy connector got its deliveries regardless.
    expect(h.connectors.callsTo(C2)).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 1 });
  });

  it('retries errors that carry no retryable flag, like any transport failure', async () => {
    const h = new Harness();
    const records = await twoConnectors(h);
    h.connectors.on(C1, () => new Error('socket hang up'));
    await h.fanout(2).handleBatch(batch(records));
    expect(h.connectors.callsTo(C1)).toHaveLength(2);
    expect(h.counts.connectorFailed).toBe(1);
  });

  it('does not retry a connector that refuses with a non-retryable error', async () => {
    const h = new Harness();
    const records = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('INVALID_ARGUMENT', 'bad request'));
    await h.fanout(5).handleBatch(batch(records));
    expect(h.connectors.callsTo(C1)).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 1 });
  });

  it('makes a single attempt when attempts is 1', async () => {
    const h = new Harness();
    const records = await twoConnectors(h);
    h.connectors.on(C1, () => new ParleyError('UNAVAILABLE', 'down'));
    await h.fanout(1).handleBatch(batch(records));
    expect(h.connectors.callsTo(C1)).toHaveLength(1);
    expect(h.counts.connectorFailed).toBe(1);
  });

  it('fails the batch (so the bus retries it) when the session directory cannot be read', async () => {
    const h = new Harness();
    const records = await twoConnectors(h);
    jest.spyOn(h.sessions, 'lookup').mockRejectedValueOnce(new ParleyError('UNAVAILABLE', 'redis down'));
    await expect(h.fanout().handleBatch(batch(records))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(h.connectors.calls).toEqual([]);
    // The retried batch goes through.
    await h.fanout().handleBatch(batch(records));
    expect(h.connectors.calls.map((c) => c.address).sort()).toEqual([C1, C2]);
  });

  it('counts what connectors report written, not what was targeted', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.connect('alice', 'laptop', C1);
    // The laptop's socket is gone on the connector: it writes one frame and reports the other missing.
    h.connectors.on(C1, () => ({ written: 1, missing: [{ userId: 'alice', deviceId: 'laptop' }] }));
    await h.fanout().handleBatch(batch([{ message: stored('g_team', 1), memberIds: ['alice'] }]));
    expect(h.connectors.calls).toHaveLength(1);
    expect(h.counts).toEqual({ delivered: 1, offline: 0, connectorFailed: 0 });
  });
});

describe('Fanout: end-to-end latency metric', () => {
  it('observes router-accept to connector-handoff time once per message per connector that took it, and none for a failed connector', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.connect('bob', 'phone', C2);
    await h.connect('carol', 'phone', C3);
    h.connectors.on(C3, () => new ParleyError('UNAVAILABLE', 'gone'));
    const m1 = { ...stored('g_lat', 1), sentAt: h.now - 250 };
    const m2 = { ...stored('g_lat', 2), sentAt: h.now - 40 };
    await h.fanout(1).handleBatch(batch([{ message: m1, memberIds: ['alice', 'bob', 'carol'] }, { message: m2, memberIds: ['alice'] }]));
    expect([...h.latencies].sort()).toEqual([0.04, 0.25, 0.25]);
  });

  it('skips messages whose sentAt lies in the future (clock step between hosts)', async () => {
    const h = new Harness();
    await h.connect('alice', 'phone', C1);
    await h.fanout().handleBatch(batch([{ message: { ...stored('g_lat', 1), sentAt: h.now + 5_000 }, memberIds: ['alice'] }]));
    expect(h.counts.delivered).toBe(1);
    expect(h.latencies).toEqual([]);
  });
});
