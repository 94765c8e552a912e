// Original file: ../../proto/parley/v1/storage.proto

import type { HistoryOrder as _parley_v1_HistoryOrder, HistoryOrder__Output as _parley_v1_HistoryOrder__Output } from '../../parley/v1/HistoryOrder';
import type { Long } from '@grpc/proto-loader';

export interface HistoryRequest {
  /**
   * The caller, checked for membership. Empty for trusted internal callers.
   */
  'userId'?: (string);
  'conversationId'?: (string);
  /**
   * Inclusive bounds; 0 means unbounded.
   */
  'fromSeq'?: (number | string | Long);
  'toSeq'?: (number | string | Long);
  'order'?: (_parley_v1_HistoryOrder);
  /**
   * 1..500; 0 means 50.
   */
  'limit'?: (number);
}

export interface HistoryRequest__Output {
  /**
   * The caller, checked for membership. Empty for trusted internal callers.
   */
  'userId': (string);
  'conversationId': (string);
  /**
   * Inclusive bounds; 0 means unbounded.
   */
  'fromSeq': (number);
  'toSeq': (number);
  'order': (_parley_v1_HistoryOrder__Output);
  /**
   * 1..500; 0 means 50.
   */
  'limit': (number);
}
