// Owns the SDK's one error type. Server error codes (docs/PROTOCOL.md §5) pass through
// unchanged; the SDK adds a few of its own, listed in SDK_ERROR_CODES.

/** Server codes the protocol marks retryable: the same frame may succeed later. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['RESOURCE_EXHAUSTED', 'UNAVAILABLE', 'DEADLINE_EXCEEDED']);

/** Codes raised by the SDK itself (never sent by a server). */
export const SDK_ERROR_CODES = {
  /** close() was called before the operation finished. A send may still have been made durable: resend it with the same clientMsgId. */
  CLOSED: 'CLOSED',
  /** Close code 4001: another socket of this user and device took over; the client stopped. */
  SESSION_REPLACED: 'SESSION_REPLACED',
  /** options.token() threw or rejected; the client retries with backoff. */
  TOKEN_UNAVAILABLE: 'TOKEN_UNAVAILABLE',
  /** The socket could not be created or failed; the client retries with backoff. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  /** The server sent a frame the SDK cannot read; it was ignored. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
} as const;

export interface ParleyErrorOptions {
  retryable?: boolean;
  retryAfterMs?: number;
  clientMsgId?: string;
  conversationId?: string;
  cause?: unknown;
}

export class ParleyError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  /** The send this error answers, when it answers one. */
  readonly clientMsgId: string | undefined;
  /** The conversation concerned, when known (a failed sync, a failed send). */
  readonly conversationId: string | undefined;
  /** RESOURCE_EXHAUSTED by a rate limit: the server's wait before a retry can be admitted, in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE_CODES.has(code);
    this.clientMsgId = options.clientMsgId;
    this.conversationId = options.conversationId;
    this.retryAfterMs = options.retryAfterMs !== undefined && options.retryAfterMs > 0 ? options.retryAfterMs : undefined;
  }
}
