// Original file: ../../proto/parley/v1/common.proto


/**
 * A message the router accepted (and acked) that the sequencer refused to store: its
 * sender was no longer a member when it reached the conversation's stream. Fanned out to
 * the sending device only, as a "rejected" frame.
 */
export interface Rejection {
  'conversationId'?: (string);
  'serverMsgId'?: (string);
  'clientMsgId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  /**
   * "PERMISSION_DENIED" (not a member) or "NOT_FOUND" (no such conversation).
   */
  'code'?: (string);
  'reason'?: (string);
}

/**
 * A message the router accepted (and acked) that the sequencer refused to store: its
 * sender was no longer a member when it reached the conversation's stream. Fanned out to
 * the sending device only, as a "rejected" frame.
 */
export interface Rejection__Output {
  'conversationId': (string);
  'serverMsgId': (string);
  'clientMsgId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  /**
   * "PERMISSION_DENIED" (not a member) or "NOT_FOUND" (no such conversation).
   */
  'code': (string);
  'reason': (string);
}
