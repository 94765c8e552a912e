// Original file: ../../proto/parley/v1/client.proto


/**
 * client -> server, type "auth": a fresh token for this socket, before the one it opened with
 * expires (which closes it with 4401). The token must name the same user, and the same device
 * when it names one. Answered with "authed", or an "error" (UNAUTHENTICATED) that leaves the
 * socket on its current token.
 */
export interface AuthFrame {
  'reqId'?: (string);
  'token'?: (string);
}

/**
 * client -> server, type "auth": a fresh token for this socket, before the one it opened with
 * expires (which closes it with 4401). The token must name the same user, and the same device
 * when it names one. Answered with "authed", or an "error" (UNAUTHENTICATED) that leaves the
 * socket on its current token.
 */
export interface AuthFrame__Output {
  'reqId': (string);
  'token': (string);
}
