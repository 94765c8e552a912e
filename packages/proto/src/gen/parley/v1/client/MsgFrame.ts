// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * server -> client, type "msg".
 */
export interface MsgFrame {
  'conversationId'?: (string);
  'seq'?: (number | string | Long);
  'serverMsgId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'clientMsgId'?: (string);
  'body'?: (string);
  'sentAt'?: (number | string | Long);
}

/**
 * server -> client, type "msg".
 */
export interface MsgFrame__Output {
  'conversationId': (string);
  'seq': (number);
  'serverMsgId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  'clientMsgId': (string);
  'body': (string);
  'sentAt': (number);
}
