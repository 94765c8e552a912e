// Original file: ../../proto/parley/v1/keys.proto

import type { ApiKey as _parley_v1_ApiKey, ApiKey__Output as _parley_v1_ApiKey__Output } from '../../parley/v1/ApiKey';

export interface CreateKeyResponse {
  'key'?: (_parley_v1_ApiKey | null);
  /**
   * pk_<key_id>_<secret>: shown once; store it as a secret.
   */
  'bearer'?: (string);
}

export interface CreateKeyResponse__Output {
  'key': (_parley_v1_ApiKey__Output | null);
  /**
   * pk_<key_id>_<secret>: shown once; store it as a secret.
   */
  'bearer': (string);
}
