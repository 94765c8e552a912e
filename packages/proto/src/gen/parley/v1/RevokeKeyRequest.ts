// Original file: ../../proto/parley/v1/keys.proto


export interface RevokeKeyRequest {
  'keyId'?: (string);
}

export interface RevokeKeyRequest__Output {
  'keyId': (string);
}
