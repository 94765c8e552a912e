// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "ack": the message is durable.
 */
export interface AckFrame {
  'clientMsgId'?: (string);
  'serverMsgId'?: (string);
  /**
   * Present only when already known (a resend of a stored message).
   */
  'seq'?: (number | string | Long);
}

/**
 * server -> client, type "ack": the message is durable.
 */
export interface AckFrame__Output {
  'clientMsgId': (string);
  'serverMsgId': (string);
  /**
   * Present only when already known (a resend of a stored message).
   */
  'seq': (number);
}
