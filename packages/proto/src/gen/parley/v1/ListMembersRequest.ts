// Original file: ../../proto/parley/v1/storage.proto


export interface ListMembersRequest {
  'conversationId'?: (string);
  /**
   * Page: members whose id sorts after this one. Empty for the first page.
   */
  'afterUserId'?: (string);
  /**
   * 1..10000; 0 means 10000.
   */
  'limit'?: (number);
}

export interface ListMembersRequest__Output {
  'conversationId': (string);
  /**
   * Page: members whose id sorts after this one. Empty for the first page.
   */
  'afterUserId': (string);
  /**
   * 1..10000; 0 means 10000.
   */
  'limit': (number);
}
