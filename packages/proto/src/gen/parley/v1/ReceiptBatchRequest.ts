// Original file: ../../proto/parley/v1/router.proto

import type { ReceiptRequest as _parley_v1_ReceiptRequest, ReceiptRequest__Output as _parley_v1_ReceiptRequest__Output } from '../../parley/v1/ReceiptRequest';

export interface ReceiptBatchRequest {
  'receipts'?: (_parley_v1_ReceiptRequest)[];
}

export interface ReceiptBatchRequest__Output {
  'receipts': (_parley_v1_ReceiptRequest__Output)[];
}
