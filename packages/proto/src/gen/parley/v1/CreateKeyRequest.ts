// Original file: ../../proto/parley/v1/keys.proto


export interface CreateKeyRequest {
  /**
   * 1..128 characters: what the key is for ("billing backend").
   */
  'name'?: (string);
  /**
   * A subset of the scopes in docs/API.md; at least one.
   */
  'scopes'?: (string)[];
}

export interface CreateKeyRequest__Output {
  /**
   * 1..128 characters: what the key is for ("billing backend").
   */
  'name': (string);
  /**
   * A subset of the scopes in docs/API.md; at least one.
   */
  'scopes': (string)[];
}
