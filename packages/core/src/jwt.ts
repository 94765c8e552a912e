// Owns verification (and, for tools and tests, signing) of HS256 JSON Web Tokens.
// Only HS256 is accepted: the header's alg is checked, never trusted to pick the algorithm.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ParleyError } from './errors';
import { isValidId } from './ids';

export interface TokenClaims {
  /** The user. */
  sub: string;
  /** The device, when the token is bound to one. */
  did?: string;
  exp: number;
  iat?: number;
  nbf?: number;
  iss?: string;
  aud?: string | string[];
}

export interface VerifyOptions {
  /** Shared secrets; more than one lets a secret be rotated without downtime. */
  secrets: readonly string[];
  nowSeconds?: number;
  clockSkewSeconds?: number;
  issuer?: string | undefined;
  audience?: string | undefined;
}

function b64urlJson(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const head = b64urlJson({ alg: 'HS256', typ: 'JWT' });
  const body = b64urlJson(claims);
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function unauthenticated(reason: string): ParleyError {
  return new ParleyError('UNAUTHENTICATED', reason, { retryable: false });
}

function parseSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('malformed token');
  }
}

export function verifyHs256(token: string, options: VerifyOptions): TokenClaims {
  if (token.length > 8192) throw unauthenticated('token too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw unauthenticated('malformed token');
  const [head, body, signature] = parts as [string, string, string];
  const header = parseSegment(head) as { alg?: unknown };
  if (typeof header !== 'object' || header === null || header.alg !== 'HS256') throw unauthenticated('unsupported token algorithm');

  const given = Buffer.from(signature, 'base64url');
  const valid = options.secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest();
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!valid) throw unauthenticated('bad token signature');

  const claims = parseSegment(body) as Record<string, unknown>;
  if (typeof claims !== 'object' || claims === null) throw unauthenticated('malformed token');
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const skew = options.clockSkewSeconds ?? 30;
  if (!isValidId(claims['sub'])) throw unauthenticated('token has no valid sub');
  if (typeof claims['exp'] !== 'number') throw unauthenticated('token has no exp');
  if (claims['exp'] + skew <= now) throw unauthenticated('token expired');
  if (typeof claims['nbf'] === 'number' && claims['nbf'] - skew > now) throw unauthenticated('token not yet valid');
  if (claims['did'] !== undefined && !isValidId(claims['did'])) throw unauthenticated('token has an invalid did');
  if (options.issuer !== undefined && claims['iss'] !== options.issuer) throw unauthenticated('wrong token issuer');
  if (options.audience !== undefined) {
    const aud = claims['aud'];
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.includes(options.audience)) throw unauthenticated('wrong token audience');
  }
  return claims as unknown as TokenClaims;
}
