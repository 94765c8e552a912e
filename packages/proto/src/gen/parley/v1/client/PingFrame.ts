// Original file: ../../proto/parley/v1/client.proto


/**
 * client -> server, type "ping": an application-level heartbeat for clients that cannot
 * see WebSocket pings (browsers). Answered at once with "pong"; not counted as a request.
 */
export interface PingFrame {
  'reqId'?: (string);
}

/**
 * client -> server, type "ping": an application-level heartbeat for clients that cannot
 * see WebSocket pings (browsers). Answered at once with "pong"; not counted as a request.
 */
export interface PingFrame__Output {
  'reqId': (string);
}
