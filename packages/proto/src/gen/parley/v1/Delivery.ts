// Original file: ../../proto/parley/v1/connector.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';
import type { DeviceTarget as _parley_v1_DeviceTarget, DeviceTarget__Output as _parley_v1_DeviceTarget__Output } from '../../parley/v1/DeviceTarget';
import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from '../../parley/v1/Receipt';
import type { Signal as _parley_v1_Signal, Signal__Output as _parley_v1_Signal__Output } from '../../parley/v1/Signal';
import type { Rejection as _parley_v1_Rejection, Rejection__Output as _parley_v1_Rejection__Output } from '../../parley/v1/Rejection';

export interface Delivery {
  /**
   * Exactly one of message, receipt, signal and rejected is set. Messages are QoS 1 (tracked
   * and retransmitted on ack=1 sockets); receipts, signals and rejections are QoS 0.
   */
  'message'?: (_parley_v1_StoredMessage | null);
  'targets'?: (_parley_v1_DeviceTarget)[];
  'receipt'?: (_parley_v1_Receipt | null);
  'signal'?: (_parley_v1_Signal | null);
  'rejected'?: (_parley_v1_Rejection | null);
}

export interface Delivery__Output {
  /**
   * Exactly one of message, receipt, signal and rejected is set. Messages are QoS 1 (tracked
   * and retransmitted on ack=1 sockets); receipts, signals and rejections are QoS 0.
   */
  'message': (_parley_v1_StoredMessage__Output | null);
  'targets': (_parley_v1_DeviceTarget__Output)[];
  'receipt': (_parley_v1_Receipt__Output | null);
  'signal': (_parley_v1_Signal__Output | null);
  'rejected': (_parley_v1_Rejection__Output | null);
}
