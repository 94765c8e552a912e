// Original file: ../../proto/parley/v1/router.proto


export interface ReceiptResult {
  /**
   * Empty when the position was taken.
   */
  'errorCode'?: (string);
  'errorMessage'?: (string);
  'retryable'?: (boolean);
}

export interface ReceiptResult__Output {
  /**
   * Empty when the position was taken.
   */
  'errorCode': (string);
  'errorMessage': (string);
  'retryable': (boolean);
}
