// Original file: ../../proto/parley/v1/keys.proto

import type { ApiKey as _parley_v1_ApiKey, ApiKey__Output as _parley_v1_ApiKey__Output } from '../../parley/v1/ApiKey';

export interface ListKeysResponse {
  'keys'?: (_parley_v1_ApiKey)[];
  'hasMore'?: (boolean);
}

export interface ListKeysResponse__Output {
  'keys': (_parley_v1_ApiKey__Output)[];
  'hasMore': (boolean);
}
