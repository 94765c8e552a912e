// The fuzz pass over the Redis directory's stored-session decoder: a value it wrote with one
// field removed, retyped or replaced, any JSON, any text. It must return a session that push can
// dial (every field a bounded string, the address host:port, not expired) or undefined, never throw.
import fc from 'fast-check';
import { FUZZ_RUNS, mutated, type Json } from '../../../test/support/fuzz';
import { decodeStoredSession } from './redis';

const NOW = 1_764_100_000_000;
const text = fc.string({ minLength: 1, maxLength: 40 });
const stored: fc.Arbitrary<Json> = fc.record({
  sessionId: text,
  connectorId: text,
  address: fc.tuple(fc.domain(), fc.integer({ min: 1, max: 65_535 })).map(([host, port]) => `${host}:${port}`),
  expiresAt: fc.integer({ min: NOW + 1, max: NOW + 3_600_000 }),
});

function check(raw: string): void {
  const session = decodeStoredSession('u1', 'phone', raw, NOW);
  if (session === undefined) return;
  expect(session.userId).toBe('u1');
  expect(session.deviceId).toBe('phone');
  for (const field of [session.sessionId, session.connectorId, session.address]) {
    expect(typeof field).toBe('string');
    expect(field.length).toBeGreaterThan(0);
    expect(field.length).toBeLessThanOrEqual(256);
  }
  expect(session.address).toMatch(/^[^\s/]+:\d{1,5}$/);
  const expiresAt = (JSON.parse(raw) as { expiresAt: number }).expiresAt;
  expect(expiresAt).toBeGreaterThan(NOW);
}

describe('decodeStoredSession (fuzz)', () => {
  it('reads back every session it wrote, and none that has expired', () => {
    fc.assert(
      fc.property(stored, (value) => {
        const session = decodeStoredSession('u1', 'phone', JSON.stringify(value), NOW);
        const { expiresAt: _expiresAt, ...fields } = value as Record<string, Json>;
        expect(session).toEqual({ userId: 'u1', deviceId: 'phone', ...fields });
        expect(decodeStoredSession('u1', 'phone', JSON.stringify(value), (value as { expiresAt: number }).expiresAt)).toBeUndefined();
      }),
      FUZZ_RUNS,
    );
  });

  it('a stored session with one field removed, retyped or replaced: a dialable session or none', () => {
    fc.assert(fc.property(mutated(stored), (value) => check(JSON.stringify(value))), FUZZ_RUNS);
  });

  it('any JSON value and any text: a dialable session or none, never an exception', () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string({ maxLength: 200 }), fc.constantFrom('{"expiresAt":1e400,"sessionId":"s","connectorId":"c","address":"h:1"}')), check), FUZZ_RUNS);
  });
});
