// Original file: ../../proto/parley/v1/connector.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';
import type { DeviceTarget as _parley_v1_DeviceTarget, DeviceTarget__Output as _parley_v1_DeviceTarget__Output } from '../../parley/v1/DeviceTarget';

export interface Delivery {
  'message'?: (_parley_v1_StoredMessage | null);
  'targets'?: (_parley_v1_DeviceTarget)[];
}

export interface Delivery__Output {
  'message': (_parley_v1_StoredMessage__Output | null);
  'targets': (_parley_v1_DeviceTarget__Output)[];
}
