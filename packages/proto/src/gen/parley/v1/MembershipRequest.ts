// Original file: ../../proto/parley/v1/storage.proto


export interface MembershipRequest {
  'conversationId'?: (string);
  'userId'?: (string);
}

export interface MembershipRequest__Output {
  'conversationId': (string);
  'userId': (string);
}
