// Original file: ../../proto/parley/v1/storage.proto


export interface GetConversationRequest {
  'conversationId'?: (string);
}

export interface GetConversationRequest__Output {
  'conversationId': (string);
}
