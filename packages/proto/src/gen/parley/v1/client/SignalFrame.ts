// Original file: ../../proto/parley/v1/client.proto


/**
 * client -> server, type "signal": QoS 0 (typing, presence in a conversation): never
 * stored, never acked, dropped first under backpressure.
 */
export interface SignalFrame {
  'conversationId'?: (string);
  /**
   * [a-z0-9_.-]{1,32}, e.g. "typing".
   */
  'kind'?: (string);
  /**
   * Optional payload, at most 1024 bytes.
   */
  'data'?: (string);
}

/**
 * client -> server, type "signal": QoS 0 (typing, presence in a conversation): never
 * stored, never acked, dropped first under backpressure.
 */
export interface SignalFrame__Output {
  'conversationId': (string);
  /**
   * [a-z0-9_.-]{1,32}, e.g. "typing".
   */
  'kind': (string);
  /**
   * Optional payload, at most 1024 bytes.
   */
  'data': (string);
}
