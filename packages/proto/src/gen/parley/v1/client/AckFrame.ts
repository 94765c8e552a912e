// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "ack": the message is durable.
 */
export interface AckFrame {
  'clientMsgId'?: (string);
  'serverMsgId'?: (string);
  /**
   * Never sent (0): the seq reaches the sender in its own msg frame, like every member's.
   * Kept for wire compatibility with clients that read it.
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
   * Never sent (0): the seq reaches the sender in its own msg frame, like every member's.
   * Kept for wire compatibility with clients that read it.
   */
  'seq': (number);
}
