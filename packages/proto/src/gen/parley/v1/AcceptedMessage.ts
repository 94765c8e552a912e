// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A message accepted by the router and made durable in Kafka, before storage
 * gives it a seq (the payload of a parley.messages record).
 */
export interface AcceptedMessage {
  'serverMsgId'?: (string);
  'conversationId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'clientMsgId'?: (string);
  'body'?: (string);
  'sentAt'?: (number | string | Long);
}

/**
 * A message accepted by the router and made durable in Kafka, before storage
 * gives it a seq (the payload of a parley.messages record).
 */
export interface AcceptedMessage__Output {
  'serverMsgId': (string);
  'conversationId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  'clientMsgId': (string);
  'body': (string);
  'sentAt': (number);
}
