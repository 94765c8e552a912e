// Original file: ../../proto/parley/v1/storage.proto


export interface CreateDirectRequest {
  'userA'?: (string);
  'userB'?: (string);
}

export interface CreateDirectRequest__Output {
  'userA': (string);
  'userB': (string);
}
