// Original file: ../../proto/parley/v1/router.proto

import type { Long } from '@grpc/proto-loader';

export interface SendResponse {
  /**
   * Derived from (conversation_id, sender_id, client_msg_id): a resend gets the same one.
   */
  'serverMsgId'?: (string);
  /**
   * Always 0: the router answers once the message is durable in Kafka, before storage gives
   * it a seq. The seq reaches every device, the sender's included, in the msg it is
   * delivered as; a resend of a message already stored is dropped by storage and not
   * delivered again (the first delivery, or sync, carries its seq).
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
   * Always 0: the router answers once the message is durable in Kafka, before storage gives
   * it a seq. The seq reaches every device, the sender's included, in the msg it is
   * delivered as; a resend of a message already stored is dropped by storage and not
   * delivered again (the first delivery, or sync, carries its seq).
   */
  'seq': (number);
  'sentAt': (number);
}
