// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A device's position in a conversation (the payload of parley.receipts records), and the
 * receipt push fans out once storage has stored it.
 */
export interface Receipt {
  'conversationId'?: (string);
  'userId'?: (string);
  'deviceId'?: (string);
  /**
   * "delivered" or "read".
   */
  'kind'?: (string);
  'seq'?: (number | string | Long);
  'at'?: (number | string | Long);
}

/**
 * A device's position in a conversation (the payload of parley.receipts records), and the
 * receipt push fans out once storage has stored it.
 */
export interface Receipt__Output {
  'conversationId': (string);
  'userId': (string);
  'deviceId': (string);
  /**
   * "delivered" or "read".
   */
  'kind': (string);
  'seq': (number);
  'at': (number);
}
