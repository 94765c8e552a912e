// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * client -> server, type "read": the user has read conversation_id up to seq (cumulative).
 */
export interface ReadFrame {
  'conversationId'?: (string);
  'seq'?: (number | string | Long);
}

/**
 * client -> server, type "read": the user has read conversation_id up to seq (cumulative).
 */
export interface ReadFrame__Output {
  'conversationId': (string);
  'seq': (number);
}
