// Original file: ../../proto/parley/v1/storage.proto


export interface MembersRequest {
  'conversationId'?: (string);
  'userIds'?: (string)[];
}

export interface MembersRequest__Output {
  'conversationId': (string);
  'userIds': (string)[];
}
