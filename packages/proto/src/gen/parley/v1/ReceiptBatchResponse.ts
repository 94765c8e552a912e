// Original file: ../../proto/parley/v1/router.proto

import type { ReceiptResult as _parley_v1_ReceiptResult, ReceiptResult__Output as _parley_v1_ReceiptResult__Output } from '../../parley/v1/ReceiptResult';

export interface ReceiptBatchResponse {
  /**
   * One per receipt, in the request's order.
   */
  'results'?: (_parley_v1_ReceiptResult)[];
}

export interface ReceiptBatchResponse__Output {
  /**
   * One per receipt, in the request's order.
   */
  'results': (_parley_v1_ReceiptResult__Output)[];
}
