// Original file: ../../proto/parley/v1/client.proto

import type { ConvState as _parley_v1_client_ConvState, ConvState__Output as _parley_v1_client_ConvState__Output } from '../../../parley/v1/client/ConvState';

/**
 * server -> client, type "convlist": the answer to convs.
 */
export interface ConvListFrame {
  'reqId'?: (string);
  'conversations'?: (_parley_v1_client_ConvState)[];
  'hasMore'?: (boolean);
}

/**
 * server -> client, type "convlist": the answer to convs.
 */
export interface ConvListFrame__Output {
  'reqId': (string);
  'conversations': (_parley_v1_client_ConvState__Output)[];
  'hasMore': (boolean);
}
