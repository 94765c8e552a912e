import { Metadata, status } from '@grpc/grpc-js';
import { ERROR_CODES, ParleyError, asParleyError, fromGrpcError, toGrpcStatus } from './errors';

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
