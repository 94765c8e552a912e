// Owns the names of Parley's topics (one prefix, so several deployments or test
// runs can share a cluster without seeing each other's records).
export interface TopicNames {
  messages: string;
  deliveries: string;
  receipts: string;
  signals: string;
  /** Membership changes broadcast to every router, push and storage instance (cache invalidation). */
  membership: string;
  /** Records that could never be processed, parked with their error and origin until replayed. */
  dlq: string;
}

export const TOPIC_KEYS = ['messages', 'deliveries', 'receipts', 'signals', 'membership', 'dlq'] as const satisfies readonly (keyof TopicNames)[];

export function topicNames(prefix: string): TopicNames {
  return {
    messages: `${prefix}messages`,
    deliveries: `${prefix}deliveries`,
    receipts: `${prefix}receipts`,
    signals: `${prefix}signals`,
    membership: `${prefix}membership`,
    dlq: `${prefix}dlq`,
  };
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** How long parley.membership keeps its records: a starting instance reads it from the beginning. */
export const MEMBERSHIP_RETENTION_MS = 3_600_000;
/** Parked records wait for an operator: four weeks. */
export const DLQ_RETENTION_MS = 28 * 86_400_000;

/**
 * Parley's topics as production creates them: one partition count for all (conversations
 * hash over it, so changing it moves conversations: docs/OPERATIONS.md), signals with a
 * short retention (QoS 0: nobody replays a minute-old "typing"), membership with an hour
 * (its readers start from the beginning and only need what they may have missed), the
 * dead-letter topic with four weeks.
 */
export function topicSpecs(
  prefix: string,
  options: { partitions: number; replicationFactor?: number; retentionMs?: number; signalsRetentionMs?: number },
): TopicSpec[] {
  const names = topicNames(prefix);
  const base = { partitions: options.partitions, ...(options.replicationFactor !== undefined ? { replicationFactor: options.replicationFactor } : {}) };
  const retention = (ms: number | undefined): Record<string, string> => (ms === undefined ? {} : { 'retention.ms': String(ms) });
  return [
    { topic: names.messages, ...base, configs: retention(options.retentionMs) },
    { topic: names.deliveries, ...base, configs: retention(options.retentionMs) },
    { topic: names.receipts, ...base, configs: retention(options.retentionMs) },
    { topic: names.signals, ...base, configs: retention(options.signalsRetentionMs ?? 60_000) },
    { topic: names.membership, ...base, configs: retention(MEMBERSHIP_RETENTION_MS) },
    { topic: names.dlq, ...base, configs: retention(DLQ_RETENTION_MS) },
  ];
}
