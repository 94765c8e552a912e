// Original file: ../../proto/parley/v1/router.proto

import type { SendItem as _parley_v1_SendItem, SendItem__Output as _parley_v1_SendItem__Output } from '../../parley/v1/SendItem';

export interface SendBatchRequest {
  'senderId'?: (string);
  'senderDeviceId'?: (string);
  'conversationId'?: (string);
  /**
   * 1..64 items.
   */
  'items'?: (_parley_v1_SendItem)[];
}

export interface SendBatchRequest__Output {
  'senderId': (string);
  'senderDeviceId': (string);
  'conversationId': (string);
  /**
   * 1..64 items.
   */
  'items': (_parley_v1_SendItem__Output)[];
}
