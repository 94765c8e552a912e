// Original file: ../../proto/parley/v1/router.proto

import type { SendBatchResponse as _parley_v1_SendBatchResponse, SendBatchResponse__Output as _parley_v1_SendBatchResponse__Output } from '../../parley/v1/SendBatchResponse';

export interface SendManyResult {
  /**
   * Set when the batch was taken (its items may still fail one by one).
   */
  'response'?: (_parley_v1_SendBatchResponse | null);
  /**
   * Otherwise the error of the whole batch.
   */
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'retryable'?: (boolean);
}

export interface SendManyResult__Output {
  /**
   * Set when the batch was taken (its items may still fail one by one).
   */
  'response': (_parley_v1_SendBatchResponse__Output | null);
  /**
   * Otherwise the error of the whole batch.
   */
  'errorCode': (string);
  'errorMessage': (string);
  'retryable': (boolean);
}
