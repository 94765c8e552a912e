// Original file: ../../proto/parley/v1/storage.proto

import type { ConversationKind as _parley_v1_ConversationKind, ConversationKind__Output as _parley_v1_ConversationKind__Output } from '../../parley/v1/ConversationKind';
import type { Long } from '@grpc/proto-loader';

export interface Conversation {
  'conversationId'?: (string);
  'kind'?: (_parley_v1_ConversationKind);
  'memberCount'?: (number | string | Long);
  /**
   * The seq of the newest stored message (0 when empty).
   */
  'lastSeq'?: (number | string | Long);
  'createdAt'?: (number | string | Long);
  /**
   * The bots allowed to post here, in id order (not members: not in member_count).
   */
  'botIds'?: (string)[];
}

export interface Conversation__Output {
  'conversationId': (string);
  'kind': (_parley_v1_ConversationKind__Output);
  'memberCount': (number);
  /**
   * The seq of the newest stored message (0 when empty).
   */
  'lastSeq': (number);
  'createdAt': (number);
  /**
   * The bots allowed to post here, in id order (not members: not in member_count).
   */
  'botIds': (string)[];
}
