// Original file: ../../proto/parley/v1/connector.proto

import type { Delivery as _parley_v1_Delivery, Delivery__Output as _parley_v1_Delivery__Output } from '../../parley/v1/Delivery';

export interface DeliverRequest {
  'deliveries'?: (_parley_v1_Delivery)[];
}

export interface DeliverRequest__Output {
  'deliveries': (_parley_v1_Delivery__Output)[];
}
