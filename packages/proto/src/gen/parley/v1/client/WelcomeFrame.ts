// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "welcome": first frame on every socket.
 */
export interface WelcomeFrame {
  'userId'?: (string);
  'deviceId'?: (string);
  'sessionId'?: (string);
  'connectorId'?: (string);
  'serverTime'?: (number | string | Long);
  'maxFrameBytes'?: (number);
}

/**
 * server -> client, type "welcome": first frame on every socket.
 */
export interface WelcomeFrame__Output {
  'userId': (string);
  'deviceId': (string);
  'sessionId': (string);
  'connectorId': (string);
  'serverTime': (number);
  'maxFrameBytes': (number);
}
