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
