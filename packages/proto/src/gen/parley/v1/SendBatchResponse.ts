// Original file: ../../proto/parley/v1/router.proto

import type { SendItemResult as _parley_v1_SendItemResult, SendItemResult__Output as _parley_v1_SendItemResult__Output } from '../../parley/v1/SendItemResult';

export interface SendBatchResponse {
  /**
   * One per item, in the request's order.
   */
  'results'?: (_parley_v1_SendItemResult)[];
}

export interface SendBatchResponse__Output {
  /**
   * One per item, in the request's order.
   */
  'results': (_parley_v1_SendItemResult__Output)[];
}
