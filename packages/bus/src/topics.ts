// Owns the names of Parley's topics (one prefix, so several deployments or test
// runs can share a cluster without seeing each other's records).
export interface TopicNames {
  messages: string;
  deliveries: string;
  receipts: string;
  signals: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    messages: `${prefix}messages`,
    deliveries: `${prefix}deliveries`,
    receipts: `${prefix}receipts`,
    signals: `${prefix}signals`,
  };
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/**
 * The four topics as production creates them: one partition count for all (conversations
 * hash over it, so it must not change once traffic flows), signals with a short retention
 * (QoS 0: nobody replays a minute-old "typing").
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
  ];
}
