// Owns verification of clients' JSON Web Tokens (and, for tools and tests, HS256 signing).
// Verification is jose's (RFC 7519 claims, RFC 8725 practice): an algorithm allowlist that the
// header never widens, HS256 with shared secrets (several, for rotation), RS256 / ES256 / EdDSA
// with keys from a JWKS URL (cached; an unknown kid fetches the set again, so the issuer can
// rotate keys), iss / aud / typ when configured; plus what jose leaves lenient: only the exact,
// canonical base64url bytes verify (no padding, no trailing characters, no equivalent last
// character with other unused bits).
import { createHmac } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ParleyError } from './errors';
import { isReservedId, isValidId } from './ids';

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

export const TOKEN_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export interface VerifyOptions {
  /** HS256 shared secrets; more than one lets a secret be rotated without downtime. */
  secrets?: readonly string[];
  /** Where the issuer publishes its public keys (RS256, ES256, EdDSA). */
  jwksUrl?: string | undefined;
  /** Algorithms accepted (default: all four); one without keys configured is refused anyway. */
  algorithms?: readonly TokenAlgorithm[];
  issuer?: string | undefined;
  audience?: string | undefined;
  /** The header's typ must be this (case-insensitive, "application/" optional) when set. */
  type?: string | undefined;
  clockSkewSeconds?: number;
  /** Tests: the time to verify at. */
  nowSeconds?: number;
}

export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = b64({ alg: 'HS256', typ: 'JWT' });
  const body = b64(claims);
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function unauthenticated(reason: string): ParleyError {
  return new ParleyError('UNAUTHENTICATED', reason, { retryable: false });
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Each segment is base64url exactly as its bytes encode: one token, one spelling. */
function canonical(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((p, i) => (p.length > 0 || i === 2) && BASE64URL.test(p) && Buffer.from(p, 'base64url').toString('base64url') === p);
}

/** The jose error as the reason a client sees (never a stack, never key material). */
function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'exp') return 'token has no exp';
    if (err.claim === 'nbf') return 'token not yet valid';
    if (err.claim === 'iss') return 'wrong token issuer';
    if (err.claim === 'aud') return 'wrong token audience';
    if (err.claim === 'typ') return 'wrong token type';
    if (err.claim === 'sub') return 'token has no valid sub';
    return `invalid token claim ${err.claim}`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad token signature';
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) return 'unsupported token algorithm';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the issuer matches this token';
  if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid) return 'the issuer\'s keys cannot be read now';
  return 'malformed token';
}

export class TokenVerifier {
  private readonly hmacKeys: Uint8Array[];
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly algorithms: readonly TokenAlgorithm[];

  constructor(private readonly options: VerifyOptions) {
    this.algorithms = options.algorithms ?? TOKEN_ALGORITHMS;
    this.hmacKeys = (options.secrets ?? []).map((s) => new TextEncoder().encode(s));
    // jose caches the set, fetches again for an unknown kid (at most every 30 s) and after 10 min.
    this.jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }) : undefined;
  }

  async verify(token: string): Promise<TokenClaims> {
    if (token.length > 8192) throw unauthenticated('token too long');
    if (!canonical(token)) throw unauthenticated('malformed token');
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthenticated('malformed token');
    }
    if (alg === undefined || !(this.algorithms as readonly string[]).includes(alg)) throw unauthenticated('unsupported token algorithm');
    const common = {
      algorithms: [alg],
      requiredClaims: ['exp', 'sub'],
      clockTolerance: this.options.clockSkewSeconds ?? 30,
      ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}),
      ...(this.options.audience !== undefined ? { audience: this.options.audience } : {}),
      ...(this.options.type !== undefined ? { typ: this.options.type } : {}),
      ...(this.options.nowSeconds !== undefined ? { currentDate: new Date(this.options.nowSeconds * 1000) } : {}),
    };
    let payload: JWTPayload | undefined;
    try {
      if (alg === 'HS256') {
        if (this.hmacKeys.length === 0) throw unauthenticated('unsupported token algorithm');
        let lastError: unknown;
        for (const key of this.hmacKeys) {
          try {
            payload = (await jwtVerify(token, key, common)).payload;
            break;
          } catch (err) {
            lastError = err;
            // Another secret may have signed it; any other failure is the token's.
            if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) break;
          }
        }
        if (!payload) throw lastError;
      } else {
        if (!this.jwks) throw unauthenticated('unsupported token algorithm');
        payload = (await jwtVerify(token, this.jwks, common)).payload;
      }
    } catch (err) {
      if (err instanceof ParleyError) throw err;
      throw unauthenticated(reasonOf(err));
    }
    if (!isValidId(payload['sub'])) throw unauthenticated('token has no valid sub');
    // A client token always names a person: the bot: and system namespaces are service
    // identities, which act only through API keys (authz.ts), never through a socket.
    if (isReservedId(payload['sub'])) throw unauthenticated('token sub is a reserved service identity (bot:, system), not a user');
    if (typeof payload['exp'] !== 'number') throw unauthenticated('token has no exp');
    if (payload['did'] !== undefined && !isValidId(payload['did'])) throw unauthenticated('token has an invalid did');
    return payload as unknown as TokenClaims;
  }
}
