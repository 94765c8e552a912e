// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * client -> server, type "history".
 */
export interface HistoryFrame {
  'reqId'?: (string);
  'conversationId'?: (string);
  'fromSeq'?: (number | string | Long);
  'toSeq'?: (number | string | Long);
  /**
   * "newest_first" (default) or "oldest_first".
   */
  'order'?: (string);
  'limit'?: (number);
}

/**
 * client -> server, type "history".
 */
export interface HistoryFrame__Output {
  'reqId': (string);
  'conversationId': (string);
  'fromSeq': (number);
  'toSeq': (number);
  /**
   * "newest_first" (default) or "oldest_first".
   */
  'order': (string);
  'limit': (number);
}
