// Original file: ../../proto/parley/v1/router.proto


export interface SendRequest {
  /**
   * The authenticated sender. Connectors take it from the verified token, never from a frame.
   */
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'conversationId'?: (string);
  /**
   * Chosen by the client, unique per sender and conversation; a resend reuses it.
   */
  'clientMsgId'?: (string);
  'body'?: (string);
}

export interface SendRequest__Output {
  /**
   * The authenticated sender. Connectors take it from the verified token, never from a frame.
   */
  'senderId': (string);
  'senderDeviceId': (string);
  'conversationId': (string);
  /**
   * Chosen by the client, unique per sender and conversation; a resend reuses it.
   */
  'clientMsgId': (string);
  'body': (string);
}
