// Original file: ../../proto/parley/v1/client.proto


/**
 * client -> server, type "send".
 */
export interface SendFrame {
  'clientMsgId'?: (string);
  'conversationId'?: (string);
  'body'?: (string);
}

/**
 * client -> server, type "send".
 */
export interface SendFrame__Output {
  'clientMsgId': (string);
  'conversationId': (string);
  'body': (string);
}
