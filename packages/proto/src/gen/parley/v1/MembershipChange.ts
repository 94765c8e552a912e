// Original file: ../../proto/parley/v1/common.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Members added to or removed from a conversation. Written to MongoDB first by the
 * conversation admin API, then published: into the conversation's own stream
 * (parley.messages, so the sequencer applies it in order with the messages) and on
 * parley.membership (so every router, push and storage instance drops what it cached).
 * Storage forwards it on parley.deliveries, so push updates its member lists in order.
 * At most 1,000 user ids per record: a bigger change is several records.
 */
export interface MembershipChange {
  'conversationId'?: (string);
  /**
   * "added" or "removed".
   */
  'change'?: (string);
  'userIds'?: (string)[];
  /**
   * Milliseconds since the Unix epoch at which the change was written.
   */
  'at'?: (number | string | Long);
}

/**
 * Members added to or removed from a conversation. Written to MongoDB first by the
 * conversation admin API, then published: into the conversation's own stream
 * (parley.messages, so the sequencer applies it in order with the messages) and on
 * parley.membership (so every router, push and storage instance drops what it cached).
 * Storage forwards it on parley.deliveries, so push updates its member lists in order.
 * At most 1,000 user ids per record: a bigger change is several records.
 */
export interface MembershipChange__Output {
  'conversationId': (string);
  /**
   * "added" or "removed".
   */
  'change': (string);
  'userIds': (string)[];
  /**
   * Milliseconds since the Unix epoch at which the change was written.
   */
  'at': (number);
}
