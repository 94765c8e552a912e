// Original file: ../../proto/parley/v1/router.proto

import type { Long } from '@grpc/proto-loader';

export interface ReceiptRequest {
  'userId'?: (string);
  'deviceId'?: (string);
  'conversationId'?: (string);
  /**
   * "delivered" or "read".
   */
  'kind'?: (string);
  'seq'?: (number | string | Long);
}

export interface ReceiptRequest__Output {
  'userId': (string);
  'deviceId': (string);
  'conversationId': (string);
  /**
   * "delivered" or "read".
   */
  'kind': (string);
  'seq': (number);
}
