// Original file: ../../proto/parley/v1/storage.proto

import type { ConversationKind as _parley_v1_ConversationKind, ConversationKind__Output as _parley_v1_ConversationKind__Output } from '../../parley/v1/ConversationKind';
import type { Long } from '@grpc/proto-loader';

export interface ConversationState {
  'conversationId'?: (string);
  'kind'?: (_parley_v1_ConversationKind);
  'lastSeq'?: (number | string | Long);
  'deliveredSeq'?: (number | string | Long);
  'readSeq'?: (number | string | Long);
  /**
   * last_seq - read_seq, never negative.
   */
  'unread'?: (number | string | Long);
  'memberCount'?: (number | string | Long);
}

export interface ConversationState__Output {
  'conversationId': (string);
  'kind': (_parley_v1_ConversationKind__Output);
  'lastSeq': (number);
  'deliveredSeq': (number);
  'readSeq': (number);
  /**
   * last_seq - read_seq, never negative.
   */
  'unread': (number);
  'memberCount': (number);
}
