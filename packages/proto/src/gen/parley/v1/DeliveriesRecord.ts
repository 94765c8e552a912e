// Original file: ../../proto/parley/v1/common.proto

import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from '../../parley/v1/StoredMessage';
import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from '../../parley/v1/Receipt';
import type { MembershipChange as _parley_v1_MembershipChange, MembershipChange__Output as _parley_v1_MembershipChange__Output } from '../../parley/v1/MembershipChange';
import type { Rejection as _parley_v1_Rejection, Rejection__Output as _parley_v1_Rejection__Output } from '../../parley/v1/Rejection';

/**
 * parley.deliveries (key: conversation_id): what push fans out, in the stream's order.
 * It carries no member list of a group: push resolves members itself (so a record stays
 * small however large the group). A direct conversation's message carries its two members
 * (checked against the conversation id, as in MessagesRecord), so push needs no lookup.
 */
export interface DeliveriesRecord {
  'v'?: (number);
  'message'?: (_parley_v1_StoredMessage | null);
  'receipt'?: (_parley_v1_Receipt | null);
  'membership'?: (_parley_v1_MembershipChange | null);
  'rejected'?: (_parley_v1_Rejection | null);
  'members'?: (string)[];
}

/**
 * parley.deliveries (key: conversation_id): what push fans out, in the stream's order.
 * It carries no member list of a group: push resolves members itself (so a record stays
 * small however large the group). A direct conversation's message carries its two members
 * (checked against the conversation id, as in MessagesRecord), so push needs no lookup.
 */
export interface DeliveriesRecord__Output {
  'v': (number);
  'message': (_parley_v1_StoredMessage__Output | null);
  'receipt': (_parley_v1_Receipt__Output | null);
  'membership': (_parley_v1_MembershipChange__Output | null);
  'rejected': (_parley_v1_Rejection__Output | null);
  'members': (string)[];
}
