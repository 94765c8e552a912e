// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

export interface ConvState {
  'conversationId'?: (string);
  /**
   * "direct" or "group".
   */
  'kind'?: (string);
  'lastSeq'?: (number | string | Long);
  /**
   * This user's positions: delivered = highest recv from any of its devices, read = highest read.
   */
  'deliveredSeq'?: (number | string | Long);
  'readSeq'?: (number | string | Long);
  /**
   * last_seq - read_seq, never negative.
   */
  'unread'?: (number | string | Long);
  'memberCount'?: (number | string | Long);
}

export interface ConvState__Output {
  'conversationId': (string);
  /**
   * "direct" or "group".
   */
  'kind': (string);
  'lastSeq': (number);
  /**
   * This user's positions: delivered = highest recv from any of its devices, read = highest read.
   */
  'deliveredSeq': (number);
  'readSeq': (number);
  /**
   * last_seq - read_seq, never negative.
   */
  'unread': (number);
  'memberCount': (number);
}
