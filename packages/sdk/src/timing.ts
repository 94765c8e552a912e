// Owns the SDK's arithmetic of time: reconnect/retry backoff, when to refresh a token, and
// reading a JWT's `exp` (decoded, never verified: the server verifies). Pure functions.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(maxMs, initialMs * 2^attempt)).
 * Full jitter spreads a crowd of clients that lost the same connector at the same moment.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return Math.floor(Math.min(Math.max(random(), 0), 1) * ceiling);
}

/** Below this much remaining lifetime a proactive refresh is not worth it: close code 4401 will come. */
export const MIN_REFRESH_LEAD_MS = 10_000;
const REFRESH_BEFORE_EXP_MS = 60_000;
const SHORT_TOKEN_MS = 120_000;

/**
 * How long from `nowMs` to reconnect with a fresh token: 60 s before exp, or halfway to exp
 * for a token with less than 2 min left. Undefined when it expires too soon to bother.
 */
export function tokenRefreshDelay(expiresAtMs: number, nowMs: number): number | undefined {
  const remaining = expiresAtMs - nowMs;
  if (remaining < MIN_REFRESH_LEAD_MS) return undefined;
  return remaining < SHORT_TOKEN_MS ? Math.floor(remaining / 2) : remaining - REFRESH_BEFORE_EXP_MS;
}

interface Base64Globals {
  atob?: (data: string) => string;
}

/** The token's `exp` in ms since epoch, or undefined when it is not a JWT with a numeric exp. */
export function tokenExpiresAt(token: string): number | undefined {
  const payload = token.split('.')[1];
  const atob = (globalThis as Base64Globals).atob;
  if (!payload || !atob) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const binary = atob(base64);
    const json = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    if (typeof claims !== 'object' || claims === null) return undefined;
    const exp = (claims as { exp?: unknown }).exp;
    // In milliseconds it must still be a time: exp 1.7e305 is finite, exp * 1000 is Infinity.
    const ms = typeof exp === 'number' ? exp * 1000 : Number.NaN;
    return Number.isSafeInteger(Math.trunc(ms)) ? ms : undefined;
  } catch {
    return undefined;
  }
}
