// Original file: ../../proto/parley/v1/router.proto


export interface SignalRequest {
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'conversationId'?: (string);
  'kind'?: (string);
  'data'?: (string);
}

export interface SignalRequest__Output {
  'senderId': (string);
  'senderDeviceId': (string);
  'conversationId': (string);
  'kind': (string);
  'data': (string);
}
