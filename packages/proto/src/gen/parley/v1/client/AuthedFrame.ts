// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "authed": the socket now runs on the new token, until expires_at
 * (seconds since the epoch, the token's exp).
 */
export interface AuthedFrame {
  'reqId'?: (string);
  'expiresAt'?: (number | string | Long);
}

/**
 * server -> client, type "authed": the socket now runs on the new token, until expires_at
 * (seconds since the epoch, the token's exp).
 */
export interface AuthedFrame__Output {
  'reqId': (string);
  'expiresAt': (number);
}
