// What the harness and the load-generator workers say to each other over IPC (structured
// clone: typed arrays cross as they are). A run is split over several workers: each holds a
// share of the devices, sends the messages whose sender it holds and counts what its own
// devices receive; the harness adds their per-message counts up (merge.ts).
export type Transport = 'parley' | 'relay' | 'floor' | 'kafka';

export interface DeviceSpec {
  key: string;
  transport: Transport;
  url: string;
  /** Which load-generator worker holds it (the harness decides; see LoadGens.workerFor). */
  worker?: number;
  /** SDK devices: every connector URL, tried in turn after a failure. */
  urls?: string[];
  token?: string;
  conversationId?: string;
  /** wss:// devices: the CA (PEM file) their server's certificate is checked against. */
  caFile?: string;
}

/** Messages go round-robin over the flows: from one device to a conversation's other devices. */
export interface Flow {
  transport: Transport;
  from: string;
  conversationId: string;
  /** Floor chain: the receiving devices as "<edge>:<key>" (the floor has no membership or directory). */
  to?: string[];
  /** Relay in addressed mode: the receiving relay ids (no rooms). */
  relayTo?: string;
  /** Device keys that must receive each message of this flow (the sender's own copy excluded). */
  receivers: string[];
}

/** After a Parley socket's welcome: nothing, or what a client does after connecting (`convs`, then a `sync` of each conversation). */
export type Boot = 'none' | 'sync';

export interface OpenResult {
  opened: number;
  failed: number;
  /** Devices that finished their boot (convs + every sync answered). */
  booted: number;
  /** Conversations synced by the boot. */
  synced: number;
  firstError?: string;
}

export type LoadCommand =
  | { op: 'open'; devices: DeviceSpec[]; addresses: string[]; concurrency?: number; boot?: Boot }
  | { op: 'flows'; name: string; flows: Flow[] }
  | { op: 'kafka-open'; brokers: string[]; topic: string }
  | { op: 'run'; tag: string; flows: string; rate: number; seconds: number; t0: number; drainMs: number }
  | { op: 'count' }
  | { op: 'close-devices'; prefix?: string }
  | { op: 'sdk-open'; devices: DeviceSpec[]; addresses: string[] }
  | { op: 'sdk-send-start'; senders: { key: string; conversationId: string }[]; intervalMs: number }
  | { op: 'sdk-send-stop' }
  | { op: 'sdk-status'; exact?: boolean }
  | { op: 'sdk-close' }
  | { op: 'probe-start'; keys: string[]; conversationId: string; intervalMs: number; tag: string }
  | { op: 'probe-stop' }
  | { op: 'exit' };

export interface HistogramData {
  buckets: [number, number][];
  count: number;
  maxUs: number;
}

/** One worker's share of a run: per-message arrays indexed by message number. */
export interface WorkerRunResult {
  /** 0 in flight (or not this worker's send), 1 acked, 2 refused for good (or rejected after its ack). */
  state: Uint8Array;
  /** Deliveries due on this worker's devices, per message. */
  expected: Uint16Array;
  /** Deliveries that arrived on this worker's devices, per message (duplicates included). */
  got: Uint16Array;
  sent: number;
  acked: number;
  errors: Record<string, number>;
  redelivered: number;
  gaps: number;
  sendSeconds: number;
  hist: HistogramData;
  early: HistogramData;
  late: HistogramData;
}

/** A whole run, the workers' shares added up. */
export interface RunResult {
  sent: number;
  /** Refused for good (not retryable, retries exhausted, or `rejected` after the ack): not due anywhere. */
  refused: number;
  /** Every refusal answer to a send (retried ones included), over all codes. */
  refusals: number;
  acked: number;
  errors: Record<string, number>;
  /** Deliveries due (messages not refused x receiving devices). */
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** QoS 1 retransmissions of a seq the device already had (dropped, as the SDK does). */
  redelivered: number;
  gaps: number;
  sendSeconds: number;
  hist: HistogramData;
  /** Median latency of the first and of the last third of the messages. */
  earlyP50: number;
  lateP50: number;
}

export interface SdkStatus {
  total: number;
  open: number;
  receivers: number;
  /** Receivers holding every acked message of their conversation. */
  complete: number;
  missing: number;
  duplicates: number;
  acked: number;
  sendFailures: number;
  /** Errors the SDK clients reported, by code (a storm's refusals and timeouts show here). */
  errors: Record<string, number>;
}

/** One send of the membership-removal probe and what came back for it. */
export interface ProbeSend {
  device: string;
  clientMsgId: string;
  /** Epoch ms (performance.timeOrigin + now()), comparable across the bench's processes. */
  sentAt: number;
  /** 'ack', an error code, or 'none' (no answer by the stop). */
  answer: string;
  answeredAt: number;
  /** A `rejected` frame for this send (storage refused it after the ack): its code and arrival. */
  rejected?: { code: string; at: number };
}

/** Epoch milliseconds with sub-millisecond resolution, the same clock in every bench process. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
