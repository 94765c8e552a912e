// Original file: ../../proto/parley/v1/storage.proto


export interface ListMembersResponse {
  /**
   * In user id order.
   */
  'userIds'?: (string)[];
  'hasMore'?: (boolean);
}

export interface ListMembersResponse__Output {
  /**
   * In user id order.
   */
  'userIds': (string)[];
  'hasMore': (boolean);
}
