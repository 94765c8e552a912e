// Original file: ../../proto/parley/v1/storage.proto

import type { ConversationState as _parley_v1_ConversationState, ConversationState__Output as _parley_v1_ConversationState__Output } from '../../parley/v1/ConversationState';

export interface ListConversationsResponse {
  'conversations'?: (_parley_v1_ConversationState)[];
  'hasMore'?: (boolean);
}

export interface ListConversationsResponse__Output {
  'conversations': (_parley_v1_ConversationState__Output)[];
  'hasMore': (boolean);
}
