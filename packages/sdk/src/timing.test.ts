import fc from 'fast-check';
import { backoffDelay, tokenExpiresAt, tokenRefreshDelay } from './timing';

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe('backoffDelay', () => {
  it('doubles from initialMs, is capped by maxMs, and jitters over the whole range', () => {
    const o = { initialMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20, 1000].map((a) => backoffDelay(a, o, () => 0.999_999))).toEqual([499, 999, 1999, 3999, 7999, 15_999, 29_999, 29_999, 29_999, 29_999]);
    expect(backoffDelay(5, o, () => 0)).toBe(0);
  });

  it('stays within [0, min(maxMs, initialMs * 2^attempt)) for any random value', () => {
    fc.assert(
      fc.property(fc.nat(100), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, initialMs, extra, r) => {
        const maxMs = initialMs + extra;
        const d = backoffDelay(attempt, { initialMs, maxMs }, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(maxMs, initialMs * 2 ** attempt));
      }),
    );
  });
});

describe('tokenRefreshDelay', () => {
  it('refreshes 60 s before exp, halfway for tokens with less than 2 min left, not at all in the last 10 s', () => {
    expect(tokenRefreshDelay(1_000_000 + 3_600_000, 1_000_000)).toBe(3_540_000);
    expect(tokenRefreshDelay(1_000_000 + 120_000, 1_000_000)).toBe(60_000);
    expect(tokenRefreshDelay(1_000_000 + 100_000, 1_000_000)).toBe(50_000);
    expect(tokenRefreshDelay(1_000_000 + 9_999, 1_000_000)).toBeUndefined();
    expect(tokenRefreshDelay(1_000_000 - 5, 1_000_000)).toBeUndefined();
  });
});

describe('tokenExpiresAt', () => {
  it('reads exp (seconds) from the payload without verifying', () => {
    expect(tokenExpiresAt(jwt({ sub: 'alice', exp: 1_764_100_000 }))).toBe(1_764_100_000_000);
    expect(tokenExpiresAt(jwt({ sub: 'ünïcødé', exp: 5 }))).toBe(5000);
  });

  it('is undefined for anything that is not a JWT with a numeric exp', () => {
    for (const token of ['', 'opaque-token', 'a.b.c', jwt({ sub: 'alice' }), jwt({ exp: '123' }), `x.${Buffer.from('null').toString('base64url')}.y`]) {
      expect(tokenExpiresAt(token)).toBeUndefined();
    }
  });
});
