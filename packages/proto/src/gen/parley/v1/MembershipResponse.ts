// Original file: ../../proto/parley/v1/storage.proto

import type { Long } from '@grpc/proto-loader';

export interface MembershipResponse {
  'member'?: (boolean);
  'memberCount'?: (number | string | Long);
  /**
   * Every member, when member_count <= 256 (complete is then true); empty otherwise.
   */
  'memberIds'?: (string)[];
  'complete'?: (boolean);
}

export interface MembershipResponse__Output {
  'member': (boolean);
  'memberCount': (number);
  /**
   * Every member, when member_count <= 256 (complete is then true); empty otherwise.
   */
  'memberIds': (string)[];
  'complete': (boolean);
}
