// Original file: ../../proto/parley/v1/client.proto


/**
 * server -> client, type "rejected": a message this device sent, and that was acked (durable
 * in Kafka), was not stored: its sender was no longer a member of the conversation when it
 * reached the conversation's stream (code "PERMISSION_DENIED"), or the conversation is gone
 * ("NOT_FOUND"). It will never get a seq; resending it gets the same answer.
 */
export interface RejectedFrame {
  'clientMsgId'?: (string);
  'conversationId'?: (string);
  'serverMsgId'?: (string);
  'code'?: (string);
  'message'?: (string);
}

/**
 * server -> client, type "rejected": a message this device sent, and that was acked (durable
 * in Kafka), was not stored: its sender was no longer a member of the conversation when it
 * reached the conversation's stream (code "PERMISSION_DENIED"), or the conversation is gone
 * ("NOT_FOUND"). It will never get a seq; resending it gets the same answer.
 */
export interface RejectedFrame__Output {
  'clientMsgId': (string);
  'conversationId': (string);
  'serverMsgId': (string);
  'code': (string);
  'message': (string);
}
