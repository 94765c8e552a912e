// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "pong".
 */
export interface PongFrame {
  'reqId'?: (string);
  'serverTime'?: (number | string | Long);
}

/**
 * server -> client, type "pong".
 */
export interface PongFrame__Output {
  'reqId': (string);
  'serverTime': (number);
}
