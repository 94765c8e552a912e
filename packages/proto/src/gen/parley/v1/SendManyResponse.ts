// Original file: ../../proto/parley/v1/router.proto

import type { SendManyResult as _parley_v1_SendManyResult, SendManyResult__Output as _parley_v1_SendManyResult__Output } from '../../parley/v1/SendManyResult';

export interface SendManyResponse {
  /**
   * One per batch, in the request's order.
   */
  'results'?: (_parley_v1_SendManyResult)[];
}

export interface SendManyResponse__Output {
  /**
   * One per batch, in the request's order.
   */
  'results': (_parley_v1_SendManyResult__Output)[];
}
