// Original file: ../../proto/parley/v1/client.proto

import type { Long } from '@grpc/proto-loader';

/**
 * client -> server, type "recv": device ack, cumulative. "This device holds every message
 * of conversation_id up to seq." Only sockets opened with ?ack=1 must send it; on those the
 * connector retransmits msg frames not covered by a recv (QoS 1), and the position is
 * stored as the device's delivered position.
 */
export interface RecvFrame {
  'conversationId'?: (string);
  'seq'?: (number | string | Long);
}

/**
 * client -> server, type "recv": device ack, cumulative. "This device holds every message
 * of conversation_id up to seq." Only sockets opened with ?ack=1 must send it; on those the
 * connector retransmits msg frames not covered by a recv (QoS 1), and the position is
 * stored as the device's delivered position.
 */
export interface RecvFrame__Output {
  'conversationId': (string);
  'seq': (number);
}
