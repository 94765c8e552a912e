// Original file: ../../proto/parley/v1/keys.proto


export interface ListKeysRequest {
  'afterKeyId'?: (string);
  /**
   * 1..500; 0 means 100.
   */
  'limit'?: (number);
}

export interface ListKeysRequest__Output {
  'afterKeyId': (string);
  /**
   * 1..500; 0 means 100.
   */
  'limit': (number);
}
