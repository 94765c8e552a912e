// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "sig": a QoS 0 signal from another member's device.
 */
export interface SigFrame {
  'conversationId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'kind'?: (string);
  'data'?: (string);
  'sentAt'?: (number | string | Long);
}

/**
 * server -> client, type "sig": a QoS 0 signal from another member's device.
 */
export interface SigFrame__Output {
  'conversationId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  'kind': (string);
  'data': (string);
  'sentAt': (number);
}
