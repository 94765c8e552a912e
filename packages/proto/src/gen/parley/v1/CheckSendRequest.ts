// Original file: ../../proto/parley/v1/storage.proto


export interface CheckSendRequest {
  'conversationId'?: (string);
  'userId'?: (string);
  'serverMsgId'?: (string);
}

export interface CheckSendRequest__Output {
  'conversationId': (string);
  'userId': (string);
  'serverMsgId': (string);
}
