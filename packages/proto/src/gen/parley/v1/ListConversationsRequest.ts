// Original file: ../../proto/parley/v1/storage.proto


export interface ListConversationsRequest {
  'userId'?: (string);
  'afterConversationId'?: (string);
  /**
   * 1..500; 0 means 100.
   */
  'limit'?: (number);
}

export interface ListConversationsRequest__Output {
  'userId': (string);
  'afterConversationId': (string);
  /**
   * 1..500; 0 means 100.
   */
  'limit': (number);
}
