// Original file: ../../proto/parley/v1/storage.proto

import type { Long } from '@grpc/proto-loader';

export interface SyncRequest {
  'userId'?: (string);
  'conversationId'?: (string);
  'afterSeq'?: (number | string | Long);
  /**
   * 1..500; 0 means 100.
   */
  'limit'?: (number);
}

export interface SyncRequest__Output {
  'userId': (string);
  'conversationId': (string);
  'afterSeq': (number);
  /**
   * 1..500; 0 means 100.
   */
  'limit': (number);
}
