// Original file: ../../proto/parley/v1/common.proto

import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from '../../parley/v1/Receipt';

/**
 * parley.receipts (key: conversation_id).
 */
export interface ReceiptsRecord {
  'v'?: (number);
  'receipt'?: (_parley_v1_Receipt | null);
}

/**
 * parley.receipts (key: conversation_id).
 */
export interface ReceiptsRecord__Output {
  'v': (number);
  'receipt': (_parley_v1_Receipt__Output | null);
}
