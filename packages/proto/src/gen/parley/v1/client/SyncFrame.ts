// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * client -> server, type "sync": everything after after_seq, oldest first.
 */
export interface SyncFrame {
  'reqId'?: (string);
  'conversationId'?: (string);
  'afterSeq'?: (number | string | Long);
  'limit'?: (number);
}

/**
 * client -> server, type "sync": everything after after_seq, oldest first.
 */
export interface SyncFrame__Output {
  'reqId': (string);
  'conversationId': (string);
  'afterSeq': (number);
  'limit': (number);
}
