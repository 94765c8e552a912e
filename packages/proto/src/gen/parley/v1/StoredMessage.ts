// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A message as stored: the unit that storage persists, push fans out and
 * clients receive. seq is per conversation, strictly increasing, gap-free from 1.
 */
export interface StoredMessage {
  'serverMsgId'?: (string);
  'conversationId'?: (string);
  'seq'?: (number | string | Long);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'clientMsgId'?: (string);
  'body'?: (string);
  /**
   * Milliseconds since the Unix epoch at which the router accepted the message.
   */
  'sentAt'?: (number | string | Long);
}

/**
 * A message as stored: the unit that storage persists, push fans out and
 * clients receive. seq is per conversation, strictly increasing, gap-free from 1.
 */
export interface StoredMessage__Output {
  'serverMsgId': (string);
  'conversationId': (string);
  'seq': (number);
  'senderId': (string);
  'senderDeviceId': (string);
  'clientMsgId': (string);
  'body': (string);
  /**
   * Milliseconds since the Unix epoch at which the router accepted the message.
   */
  'sentAt': (number);
}
