// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A QoS 0 signal (typing, ...): the value of every parley.signals record (JSON). Never stored.
 */
export interface Signal {
  'conversationId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'kind'?: (string);
  'data'?: (string);
  'sentAt'?: (number | string | Long);
  /**
   * The members at the time the router accepted it, so push needs no lookup.
   */
  'memberIds'?: (string)[];
}

/**
 * A QoS 0 signal (typing, ...): the value of every parley.signals record (JSON). Never stored.
 */
export interface Signal__Output {
  'conversationId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  'kind': (string);
  'data': (string);
  'sentAt': (number);
  /**
   * The members at the time the router accepted it, so push needs no lookup.
   */
  'memberIds': (string)[];
}
