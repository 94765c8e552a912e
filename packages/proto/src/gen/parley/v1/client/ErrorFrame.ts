// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "error".
 */
export interface ErrorFrame {
  'clientMsgId'?: (string);
  'reqId'?: (string);
  'code'?: (string);
  'message'?: (string);
  'retryable'?: (boolean);
  /**
   * RESOURCE_EXHAUSTED by a rate limit (this connection's, or the user's across every
   * connection): wait at least this many milliseconds before resending. Absent otherwise.
   */
  'retryAfterMs'?: (number | string | Long);
}

/**
 * server -> client, type "error".
 */
export interface ErrorFrame__Output {
  'clientMsgId': (string);
  'reqId': (string);
  'code': (string);
  'message': (string);
  'retryable': (boolean);
  /**
   * RESOURCE_EXHAUSTED by a rate limit (this connection's, or the user's across every
   * connection): wait at least this many milliseconds before resending. Absent otherwise.
   */
  'retryAfterMs': (number);
}
