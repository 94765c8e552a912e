// What the harness and the load generator say to each other over IPC.
export type Transport = 'parley' | 'relay' | 'floor' | 'kafka';

export interface DeviceSpec {
  key: string;
  transport: Transport;
  url: string;
  /** SDK devices: every connector URL, tried in turn after a failure. */
  urls?: string[];
  token?: string;
  conversationId?: string;
}

/** Messages go round-robin over the flows: from one device to a conversation's other devices. */
export interface Flow {
  transport: Transport;
  from: string;
  conversationId: string;
  /** Floor chain: the receiving device keys (the floor has no membership). */
  to?: string[];
  /** Devices that must receive each message of this flow (the sender's own copy excluded). */
  receivers: number;
}

export type LoadCommand =
  | { op: 'open'; devices: DeviceSpec[]; addresses: string[]; concurrency?: number }
  | { op: 'kafka-open'; brokers: string[]; topic: string }
  | { op: 'run'; flows: Flow[]; rate: number; seconds: number; drainMs: number }
  | { op: 'count' }
  | { op: 'close-devices'; prefix?: string }
  | { op: 'sdk-open'; devices: DeviceSpec[]; addresses: string[] }
  | { op: 'sdk-send-start'; senders: { key: string; conversationId: string }[]; intervalMs: number }
  | { op: 'sdk-send-stop' }
  | { op: 'sdk-status'; exact?: boolean }
  | { op: 'sdk-close' }
  | { op: 'exit' };

export interface HistogramData {
  buckets: [number, number][];
  count: number;
  maxUs: number;
}

export interface RunResult {
  sent: number;
  /** Refused for good (not retryable, or retries exhausted): not due anywhere. */
  refused: number;
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
}
