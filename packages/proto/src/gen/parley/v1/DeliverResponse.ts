// Original file: ../../proto/parley/v1/connector.proto

import type { DeviceTarget as _parley_v1_DeviceTarget, DeviceTarget__Output as _parley_v1_DeviceTarget__Output } from '../../parley/v1/DeviceTarget';
import type { Long } from '@grpc/proto-loader';

export interface DeliverResponse {
  /**
   * Frames written to sockets.
   */
  'written'?: (number | string | Long);
  /**
   * Targets that hold no session on this connector (gone or moved).
   */
  'missing'?: (_parley_v1_DeviceTarget)[];
}

export interface DeliverResponse__Output {
  /**
   * Frames written to sockets.
   */
  'written': (number);
  /**
   * Targets that hold no session on this connector (gone or moved).
   */
  'missing': (_parley_v1_DeviceTarget__Output)[];
}
