// Original file: ../../proto/parley/v1/common.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';
import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from '../../parley/v1/Receipt';

/**
 * The value of every parley.deliveries record (JSON): a stored message and the
 * members it goes to, so push never has to ask storage who they are.
 */
export interface DeliveryRecord {
  /**
   * Exactly one of message and receipt is set.
   */
  'message'?: (_parley_v1_StoredMessage | null);
  'memberIds'?: (string)[];
  /**
   * A member's delivered/read position moved (storage publishes it once stored).
   */
  'receipt'?: (_parley_v1_Receipt | null);
}

/**
 * The value of every parley.deliveries record (JSON): a stored message and the
 * members it goes to, so push never has to ask storage who they are.
 */
export interface DeliveryRecord__Output {
  /**
   * Exactly one of message and receipt is set.
   */
  'message': (_parley_v1_StoredMessage__Output | null);
  'memberIds': (string)[];
  /**
   * A member's delivered/read position moved (storage publishes it once stored).
   */
  'receipt': (_parley_v1_Receipt__Output | null);
}
