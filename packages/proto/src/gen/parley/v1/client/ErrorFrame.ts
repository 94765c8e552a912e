// Original file: ../../proto/parley/v1/client.proto


/**
 * server -> client, type "error".
 */
export interface ErrorFrame {
  'clientMsgId'?: (string);
  'reqId'?: (string);
  'code'?: (string);
  'message'?: (string);
  'retryable'?: (boolean);
}

/**
 * server -> client, type "error".
 */
export interface ErrorFrame__Output {
  'clientMsgId': (string);
  'reqId': (string);
  'code': (string);
  'message': (string);
  'retryable': (boolean);
}
