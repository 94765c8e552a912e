// Original file: ../../proto/parley/v1/common.proto

import type { MembershipChange as _parley_v1_MembershipChange, MembershipChange__Output as _parley_v1_MembershipChange__Output } from '../../parley/v1/MembershipChange';

/**
 * parley.membership (key: conversation_id): the broadcast every router, push and storage
 * instance reads from the beginning of its short retention.
 */
export interface MembershipRecord {
  'v'?: (number);
  'membership'?: (_parley_v1_MembershipChange | null);
}

/**
 * parley.membership (key: conversation_id): the broadcast every router, push and storage
 * instance reads from the beginning of its short retention.
 */
export interface MembershipRecord__Output {
  'v': (number);
  'membership': (_parley_v1_MembershipChange__Output | null);
}
