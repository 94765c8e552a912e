import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { ParleyError } from './errors';
import { signHs256, verifyHs256 } from './jwt';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const other = 'another-secret-of-at-least-thirty-two-chars';
const now = 1_800_000_000;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    return `${(err as ParleyError).code}: ${(err as ParleyError).message}`;
  }
}

describe('verifyHs256', () => {
  it('accepts a token signed with any configured secret and returns its claims', () => {
    const token = signHs256({ sub: 'alice', did: 'phone', exp: now + 60 }, other);
    expect(verifyHs256(token, { secrets: [secret, other], nowSeconds: now })).toEqual({ sub: 'alice', did: 'phone', exp: now + 60 });
  });

  it.each([
    ['a token signed with an unknown secret', signHs256({ sub: 'a', exp: now + 60 }, other), 'bad token signature'],
    ['an expired token (past the skew)', signHs256({ sub: 'a', exp: now - 31 }, secret), 'token expired'],
    ['a token without exp', signHs256({ sub: 'a' }, secret), 'token has no exp'],
    ['a token not yet valid', signHs256({ sub: 'a', exp: now + 600, nbf: now + 120 }, secret), 'token not yet valid'],
    ['a token without sub', signHs256({ exp: now + 60 }, secret), 'token has no valid sub'],
    ['a sub that is not a valid id', signHs256({ sub: 'a b', exp: now + 60 }, secret), 'token has no valid sub'],
    ['a did that is not a valid id', signHs256({ sub: 'a', did: '', exp: now + 60 }, secret), 'token has an invalid did'],
    ['two segments', 'abc.def', 'malformed token'],
    ['garbage segments', 'x.y.z', 'malformed token'],
  ])('rejects %s with UNAUTHENTICATED', (_name, token, message) => {
    expect(code(() => verifyHs256(token, { secrets: [secret], nowSeconds: now }))).toBe(`UNAUTHENTICATED: ${message}`);
  });

  it('tolerates clock skew within the configured window only', () => {
    const token = signHs256({ sub: 'a', exp: now - 10 }, secret);
    expect(verifyHs256(token, { secrets: [secret], nowSeconds: now, clockSkewSeconds: 30 }).sub).toBe('a');
    expect(code(() => verifyHs256(token, { secrets: [secret], nowSeconds: now, clockSkewSeconds: 5 }))).toBe('UNAUTHENTICATED: token expired');
  });

  it('never lets the header choose the algorithm (alg none, HS512)', () => {
    const body = Buffer.from(JSON.stringify({ sub: 'mallory', exp: now + 60 })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.`;
    expect(code(() => verifyHs256(none, { secrets: [secret], nowSeconds: now }))).toBe('UNAUTHENTICATED: unsupported token algorithm');
    const head512 = Buffer.from(JSON.stringify({ alg: 'HS512' })).toString('base64url');
    const sig = createHmac('sha512', secret).update(`${head512}.${body}`).digest('base64url');
    expect(code(() => verifyHs256(`${head512}.${body}.${sig}`, { secrets: [secret], nowSeconds: now }))).toBe('UNAUTHENTICATED: unsupported token algorithm');
  });

  it('rejects a token whose claims were changed after signing', () => {
    const [head, , sig] = signHs256({ sub: 'alice', exp: now + 60 }, secret).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: now + 60 })).toString('base64url');
    expect(code(() => verifyHs256(`${head}.${forged}.${sig}`, { secrets: [secret], nowSeconds: now }))).toBe('UNAUTHENTICATED: bad token signature');
  });

  it('checks issuer and audience only when configured', () => {
    const token = signHs256({ sub: 'a', exp: now + 60, iss: 'auth.example', aud: ['chat', 'web'] }, secret);
    expect(verifyHs256(token, { secrets: [secret], nowSeconds: now }).sub).toBe('a');
    expect(verifyHs256(token, { secrets: [secret], nowSeconds: now, issuer: 'auth.example', audience: 'chat' }).sub).toBe('a');
    expect(code(() => verifyHs256(token, { secrets: [secret], nowSeconds: now, issuer: 'evil' }))).toBe('UNAUTHENTICATED: wrong token issuer');
    expect(code(() => verifyHs256(token, { secrets: [secret], nowSeconds: now, audience: 'admin' }))).toBe('UNAUTHENTICATED: wrong token audience');
  });

  it('answers any input with claims or UNAUTHENTICATED, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(fc.string(), fc.string(), fc.string()).map((p) => p.join('.')), fc.json().map((j) => `${Buffer.from(j).toString('base64url')}.${Buffer.from(j).toString('base64url')}.x`)), (token) => {
        try {
          verifyHs256(token, { secrets: [secret], nowSeconds: now });
        } catch (err) {
          expect(err).toBeInstanceOf(ParleyError);
          expect((err as ParleyError).code).toBe('UNAUTHENTICATED');
        }
      }),
      { numRuns: 500 },
    );
  });
});
