// Original file: ../../proto/parley/v1/keys.proto


export interface VerifyKeyRequest {
  'bearer'?: (string);
}

export interface VerifyKeyRequest__Output {
  'bearer': (string);
}
