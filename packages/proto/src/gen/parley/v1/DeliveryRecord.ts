// Original file: ../../proto/parley/v1/common.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';

/**
 * The value of every parley.deliveries record (JSON): a stored message and the
 * members it goes to, so push never has to ask storage who they are.
 */
export interface DeliveryRecord {
  'message'?: (_parley_v1_StoredMessage | null);
  'memberIds'?: (string)[];
}

/**
 * The value of every parley.deliveries record (JSON): a stored message and the
 * members it goes to, so push never has to ask storage who they are.
 */
export interface DeliveryRecord__Output {
  'message': (_parley_v1_StoredMessage__Output | null);
  'memberIds': (string)[];
}
