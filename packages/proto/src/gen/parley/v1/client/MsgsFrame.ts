// Original file: ../../proto/parley/v1/client.proto

import type { MsgFrame as _parley_v1_client_MsgFrame, MsgFrame__Output as _parley_v1_client_MsgFrame__Output } from '../../../parley/v1/client/MsgFrame';

/**
 * server -> client, type "msgs": the answer to sync or history.
 */
export interface MsgsFrame {
  'reqId'?: (string);
  'conversationId'?: (string);
  'messages'?: (_parley_v1_client_MsgFrame)[];
  'hasMore'?: (boolean);
}

/**
 * server -> client, type "msgs": the answer to sync or history.
 */
export interface MsgsFrame__Output {
  'reqId': (string);
  'conversationId': (string);
  'messages': (_parley_v1_client_MsgFrame__Output)[];
  'hasMore': (boolean);
}
