// Original file: ../../proto/parley/v1/router.proto

import type { Long } from '@grpc/proto-loader';

export interface SendResponse {
  /**
   * Derived from (conversation_id, sender_id, client_msg_id): a resend gets the same one.
   */
  'serverMsgId'?: (string);
  /**
   * Set (> 0) when the message was already stored (a resend); otherwise 0, and the
   * seq reaches every device, the sender's included, in the msg it is delivered as.
   */
  'seq'?: (number | string | Long);
  'sentAt'?: (number | string | Long);
}

export interface SendResponse__Output {
  /**
   * Derived from (conversation_id, sender_id, client_msg_id): a resend gets the same one.
   */
  'serverMsgId': (string);
  /**
   * Set (> 0) when the message was already stored (a resend); otherwise 0, and the
   * seq reaches every device, the sender's included, in the msg it is delivered as.
   */
  'seq': (number);
  'sentAt': (number);
}
