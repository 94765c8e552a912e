// Owns Parley's typed errors and their one mapping to gRPC statuses and
// client-visible error codes. Every layer throws ParleyError; edges translate.
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';

export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
  // Client-protocol codes with no gRPC twin.
  'BAD_FRAME',
  'UNKNOWN_FRAME_TYPE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'RESOURCE_EXHAUSTED']);

/** Longest retry-after anyone is told or believes (a bad trailer or field must not park a sender for hours). */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** A retry-after as sent on the wire: a whole number of ms in [1, MAX_RETRY_AFTER_MS], or undefined. */
export function retryAfterFrom(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(n));
}

export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** RESOURCE_EXHAUSTED by a rate limit: how long until a retry can be admitted. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { retryable?: boolean; retryAfterMs?: number | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.retryable = options?.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = retryAfterFrom(options?.retryAfterMs);
  }
}

/** The refusal of a rate limit: retryable, with when to retry. */
export function rateLimitedError(message: string, retryAfterMs: number): ParleyError {
  return new ParleyError('RESOURCE_EXHAUSTED', message, { retryable: true, retryAfterMs: Math.max(1, retryAfterMs) });
}

export function isParleyError(err: unknown): err is ParleyError {
  return err instanceof ParleyError;
}

const TO_GRPC: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  UNAUTHENTICATED: GrpcStatus.UNAUTHENTICATED,
  PERMISSION_DENIED: GrpcStatus.PERMISSION_DENIED,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  INTERNAL: GrpcStatus.INTERNAL,
  BAD_FRAME: GrpcStatus.INVALID_ARGUMENT,
  UNKNOWN_FRAME_TYPE: GrpcStatus.INVALID_ARGUMENT,
};

export function toGrpcStatus(code: ErrorCode): GrpcStatus {
  return TO_GRPC[code];
}

/**
 * A gRPC status as seen by a client, turned back into a ParleyError (unknown statuses are
 * INTERNAL). Parley's trailers, when the server set them, say more than the status:
 * `parley-retryable` (a full group is RESOURCE_EXHAUSTED and not retryable) and
 * `parley-retry-after-ms` (a rate limit's wait).
 */
export function fromGrpcError(err: unknown): ParleyError {
  const error = fromGrpcStatus(err);
  const metadata = (err as Partial<ServiceError> | undefined)?.metadata;
  if (isParleyError(err) || !metadata || typeof metadata.get !== 'function') return error;
  const retryable = metadata.get('parley-retryable')[0];
  const retryAfterMs = retryAfterFrom(metadata.get('parley-retry-after-ms')[0]);
  if (retryable !== 'true' && retryable !== 'false' && retryAfterMs === undefined) return error;
  return new ParleyError(error.code, error.message, {
    retryable: retryable === undefined ? error.retryable : retryable === 'true',
    retryAfterMs,
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}

function fromGrpcStatus(err: unknown): ParleyError {
  if (isParleyError(err)) return err;
  const serviceError = err as Partial<ServiceError>;
  const message = serviceError.details ?? (err instanceof Error ? err.message : String(err));
  switch (serviceError.code) {
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
    case GrpcStatus.FAILED_PRECONDITION:
      return new ParleyError('INVALID_ARGUMENT', message);
    case GrpcStatus.UNAUTHENTICATED:
      return new ParleyError('UNAUTHENTICATED', message);
    case GrpcStatus.PERMISSION_DENIED:
      return new ParleyError('PERMISSION_DENIED', message);
    case GrpcStatus.NOT_FOUND:
      return new ParleyError('NOT_FOUND', message);
    case GrpcStatus.ALREADY_EXISTS:
      return new ParleyError('ALREADY_EXISTS', message);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return new ParleyError('RESOURCE_EXHAUSTED', message);
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.ABORTED:
    case GrpcStatus.CANCELLED:
      return new ParleyError('UNAVAILABLE', message);
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new ParleyError('DEADLINE_EXCEEDED', message);
    case GrpcStatus.INTERNAL:
      // grpc-js reports a connection that dropped mid-call (RST_STREAM, a closed HTTP/2
      // session) as INTERNAL; it is a transport failure, and a retry may well succeed.
      if (/RST_STREAM|Session closed|Connection dropped|ECONNRESET|socket hang up/i.test(message)) return new ParleyError('UNAVAILABLE', message);
      return new ParleyError('INTERNAL', message, { cause: err });
    default:
      return new ParleyError('INTERNAL', message, { cause: err });
  }
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const TRANSIENT_NAMES = /^(MongoNetwork\w*|MongoWaitQueueTimeout\w*|MongoServerSelection\w*|MongoNotConnected\w*|MongoTopologyClosed\w*|MongoPoolCleared\w*|MaxRetriesPerRequestError)$/;

/**
 * Is this a failure of a dependency (database, broker, cache, network) that a retry may
 * get past, as opposed to a bug? Such failures surface as UNAVAILABLE, never INTERNAL, so
 * clients retry them (sends are idempotent, so that is always safe).
 */
export function isTransientError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const x = e as Error & { code?: unknown; retriable?: unknown; errorLabels?: unknown };
    if (typeof x.code === 'string' && TRANSIENT_CODES.has(x.code)) return true;
    if (TRANSIENT_NAMES.test(x.name)) return true;
    if (x.name.startsWith('KafkaJS') && x.retriable === true) return true;
    if (Array.isArray(x.errorLabels) && x.errorLabels.some((l) => l === 'RetryableWriteError' || l === 'ResetPool' || l === 'SystemOverloadedError')) return true;
    if (/^Connection is closed|^Stream isn't writeable|ECONNREFUSED/.test(x.message)) return true;
  }
  return false;
}

/** Anything thrown, as a ParleyError; unexpected errors become INTERNAL with a message that leaks nothing. */
export function asParleyError(err: unknown): ParleyError {
  if (isParleyError(err)) return err;
  if (isTransientError(err)) return new ParleyError('UNAVAILABLE', 'a dependency is unavailable; retry', { cause: err });
  return new ParleyError('INTERNAL', 'internal error', { cause: err });
}
