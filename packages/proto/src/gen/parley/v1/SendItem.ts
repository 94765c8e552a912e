// Original file: ../../proto/parley/v1/router.proto


export interface SendItem {
  'clientMsgId'?: (string);
  'body'?: (string);
}

export interface SendItem__Output {
  'clientMsgId': (string);
  'body': (string);
}
