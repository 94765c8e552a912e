// A load-generator worker: a process of its own, driven by the harness over IPC (protocol.ts).
// Several run side by side (LoadGens in harness.ts), each holding a share of the devices'
// sockets (spread over 127.0.0.x source addresses): one process has 20,000 file descriptors
// and one core. In a run every worker walks the same open-loop schedule, sends the messages
// whose sender it holds and measures each message from its *scheduled* send time to its
// arrival on each of its receiving devices (no coordinated omission). Times are epoch
// milliseconds (protocol.ts epochNow), so a message sent by one worker and received by
// another is timed on the same clock. Four transports: Parley's client protocol on raw
// sockets, the SDK (reconnect storm), the bare relay and the floor chain (baselines a and
// c), and kafkajs produce -> consume (baseline b).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import WebSocket from 'ws';
import { ParleyClient, type WebSocketConstructor } from '@parley/sdk';
import { Histogram } from './histogram';
import { epochNow, type Boot, type DeviceSpec, type Flow, type LoadCommand, type OpenResult, type ProbeSend, type SdkStatus, type WorkerRunResult } from './protocol';

interface Device {
  key: string;
  transport: DeviceSpec['transport'];
  ws: WebSocket;
  /** Parley: last seq seen per conversation (dedupes QoS 1 retransmissions). */
  lastSeq: Map<string, number>;
  /** Parley: conversations whose `recv` is due. */
  dirty: Set<string>;
  /** Parley: answers awaited by reqId (boot's convs and syncs). */
  waiting: Map<string, (frame: ServerFrame) => void>;
}

interface ServerFrame {
  type?: string;
  t?: string;
  c?: string;
  reqId?: string;
  conversationId?: string;
  seq?: number;
  body?: string;
  b?: string;
  code?: string;
  clientMsgId?: string;
  retryable?: boolean;
  conversations?: { conversationId: string }[];
  messages?: unknown[];
}

const devices = new Map<string, Device>();
const flowSets = new Map<string, Flow[]>();
let addressCursor = 0;

function nextAddress(addresses: string[]): string | undefined {
  if (addresses.length === 0) return undefined;
  return addresses[addressCursor++ % addresses.length];
}

// ---------------------------------------------------------------- the run in progress
interface Run {
  tag: string;
  flows: Flow[];
  /** Per flow: does this worker send it? */
  owned: Uint8Array;
  /** Per flow: how many of its receivers this worker holds. */
  localReceivers: Uint16Array;
  t0: number;
  interval: number;
  state: Uint8Array;
  attempts: Uint8Array;
  expected: Uint16Array;
  got: Uint16Array;
  hist: Histogram;
  early: Histogram;
  late: Histogram;
  sent: number;
  acked: number;
  errors: Map<string, number>;
  redelivered: number;
  gaps: number;
}
let run: Run | undefined;

function onBody(receiverKey: string, body: string): void {
  const r = run;
  if (!r) return;
  const bar = body.indexOf('|');
  if (bar < 0 || body.slice(0, bar) !== r.tag) return;
  const i = Number(body.slice(bar + 1, body.indexOf('|', bar + 1)));
  if (!(i >= 0 && i < r.got.length)) return;
  const flow = r.flows[i % r.flows.length]!;
  if (flow.from === receiverKey) return; // the sender's own copy (it learns the seq from it)
  r.got[i]! += 1;
  const latency = epochNow() - (r.t0 + i * r.interval);
  r.hist.recordMs(latency);
  // The first and last thirds of the run apart: a backlog that grows shows as a later third slower than the first.
  const third = Math.floor((3 * i) / r.got.length);
  if (third === 0) r.early.recordMs(latency);
  else if (third === 2) r.late.recordMs(latency);
}

function countError(code: string): void {
  if (!run) return;
  run.errors.set(code, (run.errors.get(code) ?? 0) + 1);
}

/** The message index of one of this run's clientMsgIds. */
function indexOf(r: Run, clientMsgId: string | undefined): number | undefined {
  if (!clientMsgId?.startsWith(`${r.tag}-`)) return undefined;
  const i = Number(clientMsgId.slice(r.tag.length + 1));
  return i >= 0 && i < r.state.length ? i : undefined;
}

function onAck(clientMsgId: string | undefined): void {
  const r = run;
  if (!r) return;
  const i = indexOf(r, clientMsgId);
  if (i === undefined || r.state[i] !== 0) return;
  r.state[i] = 1;
  r.acked++;
}

/** A refused send: retried like the SDK does (same clientMsgId, after a pause) when retryable. */
function onRefused(clientMsgId: string | undefined, code: string, retryable: boolean): void {
  const r = run;
  if (!r) return;
  const i = indexOf(r, clientMsgId);
  // A late refusal of an earlier run's message (a baseline's producer still retrying after its
  // step) is not this run's: it once counted 18,636 kafka-baseline refusals against the floor.
  if (i === undefined && clientMsgId !== undefined) return;
  countError(code);
  if (i === undefined) return;
  if (retryable && r.attempts[i]! < 8) {
    r.attempts[i]! += 1;
    setTimeout(() => run === r && r.state[i] === 0 && send(r, i, true), 100 * 2 ** r.attempts[i]!);
  } else if (r.state[i] === 0) {
    r.state[i] = 2;
  }
}

/** Storage refused a message after its ack (`rejected`): it will never be delivered, so it is not due. */
function onRejected(clientMsgId: string | undefined, code: string): void {
  countError(`REJECTED ${code}`);
  const r = run;
  if (!r) return;
  const i = indexOf(r, clientMsgId);
  if (i !== undefined) r.state[i] = 2;
}

function onFrame(device: Device, data: string): void {
  if (device.transport === 'relay') return onBody(device.key, data);
  const frame = JSON.parse(data) as ServerFrame;
  if (device.transport === 'floor') {
    if (frame.t === 'm') onBody(device.key, frame.b ?? '');
    else if (frame.t === 'a') onAck(frame.c);
    else if (frame.t === 'e') onRefused(frame.c, 'UNAVAILABLE', true);
    return;
  }
  if (frame.reqId !== undefined) {
    const waiter = device.waiting.get(frame.reqId);
    if (waiter) {
      device.waiting.delete(frame.reqId);
      waiter(frame);
      return;
    }
  }
  switch (frame.type) {
    case 'msg': {
      const conv = frame.conversationId ?? '';
      const seq = frame.seq ?? 0;
      const last = device.lastSeq.get(conv);
      device.dirty.add(conv);
      if (last !== undefined && seq <= last) {
        if (run) run.redelivered++;
        return;
      }
      if (last !== undefined && seq > last + 1 && run) run.gaps += seq - last - 1;
      device.lastSeq.set(conv, seq);
      onBody(device.key, frame.body ?? '');
      return;
    }
    case 'ack':
      if (probe) probeAnswer(frame.clientMsgId, 'ack');
      onAck(frame.clientMsgId);
      return;
    case 'error':
      if (probe) probeAnswer(frame.clientMsgId, frame.code ?? 'UNKNOWN');
      onRefused(frame.clientMsgId, frame.code ?? 'UNKNOWN', frame.retryable === true);
      return;
    case 'rejected':
      if (probe) probeRejected(frame.clientMsgId, frame.code ?? 'UNKNOWN');
      onRejected(frame.clientMsgId, frame.code ?? 'UNKNOWN');
      return;
    default:
  }
}

// Device acks, coalesced like the SDK's (one cumulative recv per conversation per 500 ms).
const recvTimer = setInterval(() => {
  for (const d of devices.values()) {
    if (d.dirty.size === 0 || d.ws.readyState !== WebSocket.OPEN) continue;
    for (const conv of d.dirty) d.ws.send(JSON.stringify({ type: 'recv', conversationId: conv, seq: d.lastSeq.get(conv) ?? 0 }));
    d.dirty.clear();
  }
}, 500);

function request(device: Device, frame: Record<string, unknown>, timeoutMs = 30_000): Promise<ServerFrame> {
  const reqId = `q${Math.random().toString(36).slice(2, 10)}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      device.waiting.delete(reqId);
      reject(new Error(`${String(frame['type'])} not answered in ${timeoutMs} ms`));
    }, timeoutMs);
    device.waiting.set(reqId, (answer) => {
      clearTimeout(timer);
      if (answer.type === 'error') reject(new Error(`${String(frame['type'])}: ${answer.code}`));
      else resolve(answer);
    });
    device.ws.send(JSON.stringify({ ...frame, reqId }));
  });
}

/** What a client does after it connects: the conversation list, then one sync of each conversation. */
async function bootSync(device: Device): Promise<number> {
  const list = await request(device, { type: 'convs', limit: 100 });
  const conversations = list.conversations ?? [];
  await Promise.all(conversations.map((c) => request(device, { type: 'sync', conversationId: c.conversationId, afterSeq: 0 })));
  return conversations.length;
}

/** CA files read once per worker: thousands of wss:// devices share one. */
const cas = new Map<string, Buffer>();
function caOf(file: string | undefined): { ca: Buffer } | Record<string, never> {
  if (!file) return {};
  let ca = cas.get(file);
  if (!ca) cas.set(file, (ca = readFileSync(file)));
  return { ca };
}

function openDevice(spec: DeviceSpec, localAddress: string | undefined): Promise<Device> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(spec.url, { perMessageDeflate: false, ...caOf(spec.caFile), ...(localAddress ? { localAddress } : {}) });
    const device: Device = { key: spec.key, transport: spec.transport, ws, lastSeq: new Map(), dirty: new Set(), waiting: new Map() };
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('open timed out'));
    }, 30_000);
    const ready = () => {
      clearTimeout(timer);
      devices.set(spec.key, device);
      resolve(device);
    };
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      if (devices.get(spec.key) === device) devices.delete(spec.key);
    });
    let welcomed = spec.transport !== 'parley';
    ws.on('message', (data) => {
      const text = String(data);
      if (!welcomed) {
        welcomed = true;
        return ready(); // Parley's first frame is welcome: the session is registered
      }
      onFrame(device, text);
    });
    if (spec.transport !== 'parley') ws.on('open', ready);
  });
}

async function openAll(specs: DeviceSpec[], addresses: string[], concurrency: number, boot: Boot): Promise<OpenResult> {
  let next = 0;
  const result: OpenResult = { opened: 0, failed: 0, booted: 0, synced: 0 };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, specs.length) }, async () => {
      while (next < specs.length) {
        const spec = specs[next++]!;
        try {
          const device = await openDevice(spec, nextAddress(addresses));
          result.opened++;
          if (boot === 'sync' && spec.transport === 'parley') {
            // Not `synced += await ...`: that reads the total before the await and loses the other workers' adds.
            const synced = await bootSync(device);
            result.synced += synced;
            result.booted++;
          }
        } catch (err) {
          result.failed++;
          result.firstError ??= String(err);
        }
      }
    }),
  );
  return result;
}

// ---------------------------------------------------------------- kafkajs baseline
let kafka: { producer: Producer; consumer: Consumer; topic: string } | undefined;

async function kafkaOpen(brokers: string[], topic: string): Promise<void> {
  const client = new Kafka({ clientId: 'bench-kafka-baseline', brokers, logLevel: logLevel.NOTHING });
  const producer = client.producer({ allowAutoTopicCreation: false });
  const consumer = client.consumer({ groupId: `bench-baseline-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: false });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  await consumer.run({
    eachMessage: async ({ message }) => {
      onBody('kafka-consumer', message.value?.toString() ?? '');
    },
  });
  for (let i = 0; i < 300 && !joined; i++) await new Promise((r) => setTimeout(r, 100));
  kafka = { producer, consumer, topic };
}

/**
 * Produces the kafka baseline has in flight at most: past it a send counts as refused
 * (BACKPRESSURE) instead of queueing in the client without bound. A baseline driven past its
 * ceiling then shows as refusals, and the load generator's heap stays bounded (an unbounded
 * queue of 11,000 produces/s behind a 17 s backlog once took it past 4 GB).
 */
const KAFKA_MAX_INFLIGHT = 20_000;
let kafkaInflight = 0;

// ---------------------------------------------------------------- open-loop sending
function send(r: Run, i: number, resend = false): void {
  const flow = r.flows[i % r.flows.length]!;
  const body = `${r.tag}|${i}|${(r.t0 + i * r.interval).toFixed(1)}`;
  const clientMsgId = `${r.tag}-${i}`;
  if (!resend) r.sent++;
  if (flow.transport === 'kafka') {
    if (!kafka) throw new Error('kafka baseline not open');
    if (kafkaInflight >= KAFKA_MAX_INFLIGHT) return onRefused(clientMsgId, 'BACKPRESSURE', false);
    kafkaInflight++;
    kafka.producer
      .send({ topic: kafka.topic, acks: -1, messages: [{ key: flow.conversationId, value: body }] })
      .then(
        () => onAck(clientMsgId),
        (err: unknown) => onRefused(clientMsgId, String((err as Error).name), false),
      )
      .finally(() => kafkaInflight--);
    return;
  }
  if (flow.transport === 'relay') {
    if (r.state[i] === 0) r.acked++;
    r.state[i] = 1;
  }
  const device = devices.get(flow.from);
  if (!device || device.ws.readyState !== WebSocket.OPEN) return onRefused(clientMsgId, 'SOCKET_CLOSED', false);
  if (flow.transport === 'parley') device.ws.send(JSON.stringify({ type: 'send', clientMsgId, conversationId: flow.conversationId, body }));
  else if (flow.transport === 'floor') device.ws.send(JSON.stringify({ c: clientMsgId, k: flow.conversationId, to: flow.to, b: body }));
  else device.ws.send(flow.relayTo === undefined ? body : `${flow.relayTo}\n${body}`);
}

function holds(key: string): boolean {
  return devices.has(key) || ((key === 'kafka-producer' || key === 'kafka-consumer') && kafka !== undefined);
}

async function runLoad(tag: string, flowsName: string, rate: number, seconds: number, t0: number, drainMs: number): Promise<WorkerRunResult> {
  const flows = flowSets.get(flowsName);
  if (!flows || flows.length === 0) throw new Error(`no flows named ${flowsName}`);
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const owned = new Uint8Array(flows.length);
  const localReceivers = new Uint16Array(flows.length);
  flows.forEach((f, k) => {
    owned[k] = holds(f.from) ? 1 : 0;
    localReceivers[k] = f.receivers.filter(holds).length;
  });
  const r: Run = {
    tag,
    flows,
    owned,
    localReceivers,
    t0,
    interval,
    state: new Uint8Array(total),
    attempts: new Uint8Array(total),
    expected: new Uint16Array(total),
    got: new Uint16Array(total),
    hist: new Histogram(),
    early: new Histogram(),
    late: new Histogram(),
    sent: 0,
    acked: 0,
    errors: new Map(),
    redelivered: 0,
    gaps: 0,
  };
  for (let i = 0; i < total; i++) r.expected[i] = localReceivers[i % flows.length]!;
  run = r;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = epochNow();
      while (next < total && t0 + next * interval <= now) {
        if (owned[next % flows.length]) send(r, next);
        next++;
      }
      if (next < total) setTimeout(tick, Math.max(0, Math.min(5, t0 + next * interval - now)));
      else resolve();
    };
    tick();
  });
  const sendSeconds = Math.max(0, (epochNow() - t0) / 1000);
  // Settled: every send of this worker answered, every delivery due here arrived. (A message
  // another worker's sender had refused for good is not known here: its wait runs to the bound.)
  const until = epochNow() + drainMs;
  const settled = () => {
    for (let i = 0; i < total; i++) {
      if (owned[i % flows.length] && r.state[i] === 0) return false;
      if (r.got[i]! < r.expected[i]! && !(r.state[i] === 2 && r.got[i] === 0)) return false;
    }
    return true;
  };
  while (epochNow() < until && !settled()) await new Promise((res) => setTimeout(res, 100));
  run = undefined;
  return {
    state: r.state,
    expected: r.expected,
    got: r.got,
    sent: r.sent,
    acked: r.acked,
    errors: Object.fromEntries(r.errors),
    redelivered: r.redelivered,
    gaps: r.gaps,
    sendSeconds,
    hist: r.hist.toJSON(),
    early: r.early.toJSON(),
    late: r.late.toJSON(),
  };
}

// ---------------------------------------------------------------- membership-removal probe
let probe: { tag: string; timer: NodeJS.Timeout; sends: Map<string, ProbeSend> } | undefined;

function probeAnswer(clientMsgId: string | undefined, answer: string): void {
  const s = clientMsgId ? probe?.sends.get(clientMsgId) : undefined;
  if (!s || s.answer !== 'none') return;
  s.answer = answer;
  s.answeredAt = epochNow();
}

function probeRejected(clientMsgId: string | undefined, code: string): void {
  const s = clientMsgId ? probe?.sends.get(clientMsgId) : undefined;
  if (s && !s.rejected) s.rejected = { code, at: epochNow() };
}

/** Each device sends one message every intervalMs into the conversation; every answer is kept with its time. */
function probeStart(keys: string[], conversationId: string, intervalMs: number, tag: string): void {
  const sends = new Map<string, ProbeSend>();
  let n = 0;
  const timer = setInterval(() => {
    for (const key of keys) {
      const device = devices.get(key);
      const clientMsgId = `${tag}-${key}-${n}`;
      const s: ProbeSend = { device: key, clientMsgId, sentAt: epochNow(), answer: 'none', answeredAt: 0 };
      sends.set(clientMsgId, s);
      if (!device || device.ws.readyState !== WebSocket.OPEN) {
        s.answer = 'SOCKET_CLOSED';
        s.answeredAt = s.sentAt;
        continue;
      }
      device.ws.send(JSON.stringify({ type: 'send', clientMsgId, conversationId, body: `${tag}|probe|${n}` }));
    }
    n++;
  }, intervalMs);
  probe = { tag, timer, sends };
}

// ---------------------------------------------------------------- SDK clients (reconnect storm)
interface SdkDevice {
  key: string;
  conversationId: string;
  client: ParleyClient;
  seen: Set<string>;
  duplicates: number;
}
const sdkDevices = new Map<string, SdkDevice>();
/** conversationId -> clientMsgIds acked by the server. */
const sdkAcked = new Map<string, string[]>();
let sdkSending: NodeJS.Timeout | undefined;
let sdkSendFailures = 0;
const sdkErrors: Record<string, number> = {};

function sdkWebSocket(localAddress: string | undefined): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
    }
  };
}

async function sdkOpen(specs: DeviceSpec[], addresses: string[]): Promise<{ opened: number; failed: number }> {
  for (const spec of specs) {
    const client = new ParleyClient({
      url: spec.urls ?? [spec.url],
      token: () => spec.token ?? '',
      WebSocket: sdkWebSocket(nextAddress(addresses)),
      catchUpIntervalMs: 0,
    });
    const device: SdkDevice = { key: spec.key, conversationId: spec.conversationId ?? '', client, seen: new Set(), duplicates: 0 };
    client.on('message', (m) => {
      if (device.seen.has(m.clientMsgId)) device.duplicates++;
      device.seen.add(m.clientMsgId);
    });
    client.on('error', (err) => {
      const code = (err as { code?: string }).code ?? 'UNKNOWN';
      sdkErrors[code] = (sdkErrors[code] ?? 0) + 1;
    });
    sdkDevices.set(spec.key, device);
  }
  // Connect in waves so that set-up is not itself a storm.
  const list = [...sdkDevices.values()].filter((d) => d.client.state === 'idle');
  for (let i = 0; i < list.length; i += 250) {
    const wave = list.slice(i, i + 250);
    for (const d of wave) d.client.connect();
    for (let t = 0; t < 600 && wave.some((d) => d.client.state !== 'open'); t++) await new Promise((r) => setTimeout(r, 50));
  }
  const opened = list.filter((d) => d.client.state === 'open').length;
  return { opened, failed: list.length - opened };
}

/** Cheap unless `exact`: a client counts as complete once it holds as many as were acked, then its ids are checked. */
function sdkStatus(exact: boolean): SdkStatus {
  let open = 0;
  let complete = 0;
  let missing = 0;
  let duplicates = 0;
  let receivers = 0;
  for (const d of sdkDevices.values()) {
    if (d.client.state === 'open') open++;
    duplicates += d.duplicates;
    const acked = sdkAcked.get(d.conversationId);
    if (!acked || d.key.startsWith('sender')) continue;
    receivers++;
    if (!exact && d.seen.size < acked.length) {
      missing += acked.length - d.seen.size;
      continue;
    }
    const lacking = acked.filter((id) => !d.seen.has(id)).length;
    missing += lacking;
    if (lacking === 0) complete++;
  }
  const acked = [...sdkAcked.values()].reduce((a, l) => a + l.length, 0);
  return { total: sdkDevices.size, open, receivers, complete, missing, duplicates, acked, sendFailures: sdkSendFailures, errors: { ...sdkErrors } };
}

function sdkStartSending(senders: { key: string; conversationId: string }[], intervalMs: number): void {
  let n = 0;
  sdkSending = setInterval(() => {
    for (const s of senders) {
      const device = sdkDevices.get(s.key);
      if (!device) continue;
      const clientMsgId = `storm-${s.key}-${n}`;
      device.client.send(s.conversationId, `storm|${n}`, clientMsgId).then(
        () => {
          const list = sdkAcked.get(s.conversationId) ?? [];
          list.push(clientMsgId);
          sdkAcked.set(s.conversationId, list);
        },
        () => sdkSendFailures++,
      );
    }
    n++;
  }, intervalMs);
}

// ---------------------------------------------------------------- IPC
async function handle(cmd: LoadCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'open':
      return openAll(cmd.devices, cmd.addresses, cmd.concurrency ?? 200, cmd.boot ?? 'none');
    case 'flows':
      flowSets.set(cmd.name, cmd.flows);
      return {};
    case 'kafka-open':
      await kafkaOpen(cmd.brokers, cmd.topic);
      return {};
    case 'run':
      return runLoad(cmd.tag, cmd.flows, cmd.rate, cmd.seconds, cmd.t0, cmd.drainMs);
    case 'count':
      return { open: [...devices.values()].filter((d) => d.ws.readyState === WebSocket.OPEN).length };
    case 'close-devices': {
      const prefix = cmd.prefix ?? '';
      const closing = [...devices.values()].filter((d) => d.key.startsWith(prefix));
      for (const d of closing) {
        d.ws.terminate();
        devices.delete(d.key);
      }
      return { closed: closing.length };
    }
    case 'sdk-open':
      return sdkOpen(cmd.devices, cmd.addresses);
    case 'sdk-send-start':
      sdkStartSending(cmd.senders, cmd.intervalMs);
      return {};
    case 'sdk-send-stop':
      clearInterval(sdkSending);
      return {};
    case 'sdk-status':
      return sdkStatus(cmd.exact === true);
    case 'sdk-close':
      clearInterval(sdkSending);
      await Promise.all([...sdkDevices.values()].map((d) => d.client.close()));
      sdkDevices.clear();
      sdkAcked.clear();
      return {};
    case 'probe-start':
      if (probe) clearInterval(probe.timer);
      probeStart(cmd.keys, cmd.conversationId, cmd.intervalMs, cmd.tag);
      return {};
    case 'probe-stop': {
      if (!probe) return [];
      clearInterval(probe.timer);
      const sends = [...probe.sends.values()];
      probe = undefined;
      return sends;
    }
    case 'exit':
      clearInterval(recvTimer);
      for (const d of devices.values()) d.ws.terminate();
      if (kafka) await Promise.allSettled([kafka.consumer.disconnect(), kafka.producer.disconnect()]);
      setTimeout(() => process.exit(0), 100);
      return {};
  }
}

process.on('message', (msg: { id: number; cmd: LoadCommand }) => {
  handle(msg.cmd).then(
    (result) => process.send?.({ id: msg.id, result }),
    (err: unknown) => process.send?.({ id: msg.id, error: String((err as Error).stack ?? err) }),
  );
});
// The harness going away takes the worker with it.
process.on('disconnect', () => process.exit(0));
