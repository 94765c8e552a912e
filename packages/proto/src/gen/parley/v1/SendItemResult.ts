// Original file: ../../proto/parley/v1/router.proto

import type { Long } from '@grpc/proto-loader';

export interface SendItemResult {
  'clientMsgId'?: (string);
  'serverMsgId'?: (string);
  'sentAt'?: (number | string | Long);
  /**
   * Empty when the item was made durable; otherwise the error code (INVALID_ARGUMENT,
   * RESOURCE_EXHAUSTED), its message and whether a resend may succeed.
   */
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'retryable'?: (boolean);
  /**
   * RESOURCE_EXHAUSTED by the sender's rate limit: milliseconds until a resend can be admitted
   * (0 otherwise). The same value as the parley-retry-after-ms trailer of a refused Send.
   */
  'retryAfterMs'?: (number | string | Long);
}

export interface SendItemResult__Output {
  'clientMsgId': (string);
  'serverMsgId': (string);
  'sentAt': (number);
  /**
   * Empty when the item was made durable; otherwise the error code (INVALID_ARGUMENT,
   * RESOURCE_EXHAUSTED), its message and whether a resend may succeed.
   */
  'errorCode': (string);
  'errorMessage': (string);
  'retryable': (boolean);
  /**
   * RESOURCE_EXHAUSTED by the sender's rate limit: milliseconds until a resend can be admitted
   * (0 otherwise). The same value as the parley-retry-after-ms trailer of a refused Send.
   */
  'retryAfterMs': (number);
}
