// Original file: ../../proto/parley/v1/storage.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';

export interface CheckSendResponse {
  'member'?: (boolean);
  /**
   * The stored message with that server_msg_id, when it exists (a resend).
   */
  'existing'?: (_parley_v1_StoredMessage | null);
}

export interface CheckSendResponse__Output {
  'member': (boolean);
  /**
   * The stored message with that server_msg_id, when it exists (a resend).
   */
  'existing': (_parley_v1_StoredMessage__Output | null);
}
