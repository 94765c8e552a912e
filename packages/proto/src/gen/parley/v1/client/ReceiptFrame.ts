// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "receipt": another member's (or your other device's) position moved.
 */
export interface ReceiptFrame {
  'conversationId'?: (string);
  'userId'?: (string);
  'deviceId'?: (string);
  /**
   * "delivered" or "read".
   */
  'kind'?: (string);
  'seq'?: (number | string | Long);
}

/**
 * server -> client, type "receipt": another member's (or your other device's) position moved.
 */
export interface ReceiptFrame__Output {
  'conversationId': (string);
  'userId': (string);
  'deviceId': (string);
  /**
   * "delivered" or "read".
   */
  'kind': (string);
  'seq': (number);
}
