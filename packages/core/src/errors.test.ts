import { Metadata, status } from '@grpc/grpc-js';
import { ERROR_CODES, MAX_RETRY_AFTER_MS, ParleyError, asParleyError, fromGrpcError, rateLimitedError, toGrpcStatus } from './errors';
import { errorTrailers } from './grpc';

describe('errors', () => {
  it('round-trips every gRPC-backed code through a gRPC status', () => {
    for (const code of ERROR_CODES) {
      const grpcCode = toGrpcStatus(code);
      const back = fromGrpcError(Object.assign(new Error('x'), { code: grpcCode, details: 'why', metadata: new Metadata() }));
      // Client-protocol codes travel as INVALID_ARGUMENT; the rest come back as themselves.
      expect(back.code).toBe(code === 'BAD_FRAME' || code === 'UNKNOWN_FRAME_TYPE' ? 'INVALID_ARGUMENT' : code);
      expect(back.message).toBe('why');
    }
  });

  it('carries a rate limit\'s retryAfterMs and parley-retryable through the trailers', () => {
    const limited = rateLimitedError('too fast', 1234.2);
    const back = fromGrpcError({ code: status.RESOURCE_EXHAUSTED, details: 'too fast', metadata: errorTrailers(limited) });
    expect(back).toMatchObject({ code: 'RESOURCE_EXHAUSTED', retryable: true, retryAfterMs: 1235 });
    // A full group: RESOURCE_EXHAUSTED that a retry will not fix, as the trailer says.
    const full = new ParleyError('RESOURCE_EXHAUSTED', 'the group is full', { retryable: false });
    expect(fromGrpcError({ code: status.RESOURCE_EXHAUSTED, details: 'full', metadata: errorTrailers(full) })).toMatchObject({ retryable: false, retryAfterMs: undefined });
  });

  it('believes no retry-after that is not a sane number of ms', () => {
    const withTrailer = (value: string) => {
      const metadata = new Metadata();
      metadata.set('parley-retry-after-ms', value);
      return fromGrpcError({ code: status.RESOURCE_EXHAUSTED, details: 'x', metadata }).retryAfterMs;
    };
    expect(withTrailer('-5')).toBeUndefined();
    expect(withTrailer('0')).toBeUndefined();
    expect(withTrailer('1e9')).toBeUndefined();
    expect(withTrailer('soon')).toBeUndefined();
    expect(withTrailer('99999999999')).toBeUndefined();
    expect(withTrailer('9999999999')).toBe(MAX_RETRY_AFTER_MS);
    expect(withTrailer('250')).toBe(250);
  });

  it('maps transport failures to retryable UNAVAILABLE and unknown statuses to INTERNAL', () => {
    expect(fromGrpcError({ code: status.CANCELLED, details: 'c' })).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(fromGrpcError({ code: status.ABORTED, details: 'a' })).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(fromGrpcError({ code: status.DATA_LOSS, details: 'd' })).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect(fromGrpcError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });

  it('defaults retryable by code and lets a thrower override it', () => {
    expect(new ParleyError('UNAVAILABLE', 'x').retryable).toBe(true);
    expect(new ParleyError('DEADLINE_EXCEEDED', 'x').retryable).toBe(true);
    expect(new ParleyError('PERMISSION_DENIED', 'x').retryable).toBe(false);
    expect(new ParleyError('RESOURCE_EXHAUSTED', 'x', { retryable: false }).retryable).toBe(false);
  });

  it('hides the text of unexpected errors behind INTERNAL, keeping the cause for logs', () => {
    const secret = new Error('connection string mongodb://user:pw@host');
    const wrapped = asParleyError(secret);
    expect(wrapped).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
    expect(wrapped.cause).toBe(secret);
    const typed = new ParleyError('NOT_FOUND', 'gone');
    expect(asParleyError(typed)).toBe(typed);
  });
});

describe('transient failures', () => {
  function named(name: string, extra: Record<string, unknown> = {}): Error {
    return Object.assign(new Error('x'), { name }, extra);
  }

  it('turns dependency failures into retryable UNAVAILABLE, and leaves bugs INTERNAL', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:27017'), { code: 'ECONNREFUSED' }),
      named('MongoServerSelectionError'),
      named('MongoNetworkTimeoutError'),
      named('KafkaJSConnectionError', { retriable: true }),
      new Error('wrapped', { cause: named('MongoNetworkError') }),
      Object.assign(new Error('write conflict'), { errorLabels: ['RetryableWriteError'] }),
    ]) {
      expect(asParleyError(err)).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    }
    for (const err of [new TypeError("Cannot read properties of undefined (reading 'seq')"), named('KafkaJSNonRetriableError', { retriable: false }), named('MongoServerError')]) {
      expect(asParleyError(err)).toMatchObject({ code: 'INTERNAL', retryable: false });
    }
  });

  it('treats a gRPC call cut by a dropped connection as UNAVAILABLE, other INTERNAL statuses as INTERNAL', () => {
    expect(fromGrpcError({ code: status.INTERNAL, details: 'Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2' })).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(fromGrpcError({ code: status.INTERNAL, details: 'internal error' })).toMatchObject({ code: 'INTERNAL', retryable: false });
  });
});
