// Original file: ../../proto/parley/v1/storage.proto


export interface ListMembersRequest {
  'conversationId'?: (string);
}

export interface ListMembersRequest__Output {
  'conversationId': (string);
}
