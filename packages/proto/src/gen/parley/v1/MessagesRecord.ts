// Original file: ../../proto/parley/v1/common.proto

import type { AcceptedMessage as _parley_v1_AcceptedMessage, AcceptedMessage__Output as _parley_v1_AcceptedMessage__Output } from '../../parley/v1/AcceptedMessage';
import type { MembershipChange as _parley_v1_MembershipChange, MembershipChange__Output as _parley_v1_MembershipChange__Output } from '../../parley/v1/MembershipChange';

/**
 * parley.messages (key: conversation_id).
 */
export interface MessagesRecord {
  'v'?: (number);
  'message'?: (_parley_v1_AcceptedMessage | null);
  'membership'?: (_parley_v1_MembershipChange | null);
  /**
   * Direct conversations only: the two members, as the router's membership answer gave them.
   * The conversation id is a digest of the pair, so the sequencer checks the pair against it
   * and needs no membership lookup; a pair that does not match is ignored.
   */
  'members'?: (string)[];
}

/**
 * parley.messages (key: conversation_id).
 */
export interface MessagesRecord__Output {
  'v': (number);
  'message': (_parley_v1_AcceptedMessage__Output | null);
  'membership': (_parley_v1_MembershipChange__Output | null);
  /**
   * Direct conversations only: the two members, as the router's membership answer gave them.
   * The conversation id is a digest of the pair, so the sequencer checks the pair against it
   * and needs no membership lookup; a pair that does not match is ignored.
   */
  'members': (string)[];
}
