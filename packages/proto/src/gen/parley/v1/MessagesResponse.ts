// Original file: ../../proto/parley/v1/storage.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';

export interface MessagesResponse {
  'messages'?: (_parley_v1_StoredMessage)[];
  /**
   * More messages exist past the last one returned.
   */
  'hasMore'?: (boolean);
}

export interface MessagesResponse__Output {
  'messages': (_parley_v1_StoredMessage__Output)[];
  /**
   * More messages exist past the last one returned.
   */
  'hasMore': (boolean);
}
