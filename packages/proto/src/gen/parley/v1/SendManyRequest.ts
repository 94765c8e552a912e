// Original file: ../../proto/parley/v1/router.proto

import type { SendBatchRequest as _parley_v1_SendBatchRequest, SendBatchRequest__Output as _parley_v1_SendBatchRequest__Output } from '../../parley/v1/SendBatchRequest';

export interface SendManyRequest {
  'batches'?: (_parley_v1_SendBatchRequest)[];
}

export interface SendManyRequest__Output {
  'batches': (_parley_v1_SendBatchRequest__Output)[];
}
