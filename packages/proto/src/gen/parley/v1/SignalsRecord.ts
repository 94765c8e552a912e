// Original file: ../../proto/parley/v1/common.proto

import type { Signal as _parley_v1_Signal, Signal__Output as _parley_v1_Signal__Output } from '../../parley/v1/Signal';

/**
 * parley.signals (key: conversation_id).
 */
export interface SignalsRecord {
  'v'?: (number);
  'signal'?: (_parley_v1_Signal | null);
}

/**
 * parley.signals (key: conversation_id).
 */
export interface SignalsRecord__Output {
  'v': (number);
  'signal': (_parley_v1_Signal__Output | null);
}
