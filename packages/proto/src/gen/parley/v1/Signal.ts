// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A QoS 0 signal (typing, ...): the payload of parley.signals records. Never stored.
 */
export interface Signal {
  'conversationId'?: (string);
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'kind'?: (string);
  'data'?: (string);
  'sentAt'?: (number | string | Long);
  /**
   * No longer written (push resolves members itself; a list here made records grow with
   * the group). Kept so that records of the previous format still decode.
   */
  'memberIds'?: (string)[];
}

/**
 * A QoS 0 signal (typing, ...): the payload of parley.signals records. Never stored.
 */
export interface Signal__Output {
  'conversationId': (string);
  'senderId': (string);
  'senderDeviceId': (string);
  'kind': (string);
  'data': (string);
  'sentAt': (number);
  /**
   * No longer written (push resolves members itself; a list here made records grow with
   * the group). Kept so that records of the previous format still decode.
   */
  'memberIds': (string)[];
}
