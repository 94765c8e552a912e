// Client tokens: HS256 with rotating secrets, RS256 / ES256 / EdDSA from a JWKS served by a
// local HTTP server (with a key rotation), the algorithm allowlist, claims, and only the exact
// token bytes verifying.
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { SignJWT, exportJWK } from 'jose';
import { ParleyError } from './errors';
import { TokenVerifier, signHs256, type VerifyOptions } from './jwt';

const secret = 'a-secret-of-at-least-thirty-two-characters';
const other = 'another-secret-of-at-least-thirty-two-chars';
const now = 1_800_000_000;

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    return `${(err as ParleyError).code}: ${(err as ParleyError).message}`;
  }
}
const verify = (token: string, options: VerifyOptions = {}) => new TokenVerifier({ secrets: [secret], nowSeconds: now, ...options }).verify(token);

describe('HS256 tokens', () => {
  it('accepts a token signed with any configured secret and returns its claims', async () => {
    const token = signHs256({ sub: 'alice', did: 'phone', exp: now + 60 }, other);
    expect(await verify(token, { secrets: [secret, other] })).toEqual({ sub: 'alice', did: 'phone', exp: now + 60 });
  });

  it.each([
    ['a token signed with an unknown secret', signHs256({ sub: 'a', exp: now + 60 }, other), 'bad token signature'],
    ['an expired token (past the skew)', signHs256({ sub: 'a', exp: now - 31 }, secret), 'token expired'],
    ['a token without exp', signHs256({ sub: 'a' }, secret), 'token has no exp'],
    ['a token not yet valid', signHs256({ sub: 'a', exp: now + 600, nbf: now + 120 }, secret), 'token not yet valid'],
    ['a token without sub', signHs256({ exp: now + 60 }, secret), 'token has no valid sub'],
    ['a sub that is not a valid id', signHs256({ sub: 'a b', exp: now + 60 }, secret), 'token has no valid sub'],
    ['a sub in the bot namespace', signHs256({ sub: 'bot:support', exp: now + 60 }, secret), 'token sub is a reserved service identity (bot:, system), not a user'],
    ['a sub that is the system identity', signHs256({ sub: 'system', exp: now + 60 }, secret), 'token sub is a reserved service identity (bot:, system), not a user'],
    ['a did that is not a valid id', signHs256({ sub: 'a', did: '', exp: now + 60 }, secret), 'token has an invalid did'],
    ['two segments', 'abc.def', 'malformed token'],
    ['garbage segments', 'x.y.z', 'malformed token'],
  ])('rejects %s with UNAUTHENTICATED', async (_name, token, message) => {
    expect(await code(verify(token))).toBe(`UNAUTHENTICATED: ${message}`);
  });

  it('verifies only the exact token bytes: no padding, no extra characters, no equivalent last character', async () => {
    const token = signHs256({ sub: 'a', exp: now + 60 }, secret);
    expect((await verify(token)).sub).toBe('a');
    const [head, body, sig] = token.split('.') as [string, string, string];
    // 32 bytes of HMAC are 43 base64url characters: the last carries 2 unused bits.
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    expect(Buffer.from(`${sig.slice(0, -1)}${sibling}`, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    for (const variant of [`${token}==`, `${token}~~`, `${head}.${body}.${sig.slice(0, -1)}${sibling}`, `${head}=.${body}.${sig}`, ` ${token}`]) {
      expect(await code(verify(variant))).toBe('UNAUTHENTICATED: malformed token');
    }
  });

  it('tolerates clock skew within the configured window only', async () => {
    const token = signHs256({ sub: 'a', exp: now - 10 }, secret);
    expect((await verify(token, { clockSkewSeconds: 30 })).sub).toBe('a');
    expect(await code(verify(token, { clockSkewSeconds: 5 }))).toBe('UNAUTHENTICATED: token expired');
  });

  it('never lets the header choose the algorithm (alg none, HS512, an algorithm left out of the allowlist)', async () => {
    const body = Buffer.from(JSON.stringify({ sub: 'mallory', exp: now + 60 })).toString('base64url');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${body}.`;
    expect(await code(verify(none))).toBe('UNAUTHENTICATED: unsupported token algorithm');
    const head512 = Buffer.from(JSON.stringify({ alg: 'HS512' })).toString('base64url');
    const sig = createHmac('sha512', secret).update(`${head512}.${body}`).digest('base64url');
    expect(await code(verify(`${head512}.${body}.${sig}`))).toBe('UNAUTHENTICATED: unsupported token algorithm');
    expect(await code(verify(signHs256({ sub: 'a', exp: now + 60 }, secret), { algorithms: ['ES256'] }))).toBe('UNAUTHENTICATED: unsupported token algorithm');
  });

  it('rejects a token whose claims were changed after signing', async () => {
    const [head, , sig] = signHs256({ sub: 'alice', exp: now + 60 }, secret).split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', exp: now + 60 })).toString('base64url');
    expect(await code(verify(`${head}.${forged}.${sig}`))).toBe('UNAUTHENTICATED: bad token signature');
  });

  it('checks issuer, audience and type only when configured', async () => {
    const token = signHs256({ sub: 'a', exp: now + 60, iss: 'auth.example', aud: ['chat', 'web'] }, secret);
    expect((await verify(token)).sub).toBe('a');
    expect((await verify(token, { issuer: 'auth.example', audience: 'chat', type: 'JWT' })).sub).toBe('a');
    expect(await code(verify(token, { issuer: 'evil' }))).toBe('UNAUTHENTICATED: wrong token issuer');
    expect(await code(verify(token, { audience: 'admin' }))).toBe('UNAUTHENTICATED: wrong token audience');
    expect(await code(verify(token, { type: 'at+jwt' }))).toBe('UNAUTHENTICATED: wrong token type');
  });

  it('answers any input with claims or UNAUTHENTICATED, never another exception', async () => {
    const verifier = new TokenVerifier({ secrets: [secret], nowSeconds: now });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.tuple(fc.string(), fc.string(), fc.string()).map((p) => p.join('.')), fc.json().map((j) => `${Buffer.from(j).toString('base64url')}.${Buffer.from(j).toString('base64url')}.x`)),
        async (token) => {
          try {
            await verifier.verify(token);
          } catch (err) {
            expect(err).toBeInstanceOf(ParleyError);
            expect((err as ParleyError).code).toBe('UNAUTHENTICATED');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('RS256, ES256 and EdDSA tokens from a JWKS URL', () => {
  const keys: { kid: string; alg: 'RS256' | 'ES256' | 'EdDSA'; privateKey: KeyObject; publicKey: KeyObject }[] = [];
  let published: string[] = [];
  let fetches = 0;
  let server: http.Server;
  let url: string;
  const add = (kid: string, alg: 'RS256' | 'ES256' | 'EdDSA') => {
    const pair = alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    keys.push({ kid, alg, ...pair });
  };
  const sign = (kid: string, claims: Record<string, unknown> = { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 }) => {
    const k = keys.find((x) => x.kid === kid)!;
    return new SignJWT(claims).setProtectedHeader({ alg: k.alg, kid, typ: 'JWT' }).sign(k.privateKey);
  };

  beforeAll(async () => {
    add('rsa-1', 'RS256');
    add('ec-1', 'ES256');
    add('ed-1', 'EdDSA');
    add('ec-2', 'ES256');
    published = ['rsa-1', 'ec-1', 'ed-1'];
    server = http.createServer((_req, res) => {
      fetches++;
      void Promise.all(keys.filter((k) => published.includes(k.kid)).map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' }))).then((jwks) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwks })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('verifies each algorithm with the published key, fetching the set once', async () => {
    const verifier = new TokenVerifier({ jwksUrl: url });
    for (const kid of ['rsa-1', 'ec-1', 'ed-1']) expect((await verifier.verify(await sign(kid))).sub).toBe('alice');
    expect(fetches).toBe(1);
  });

  it('follows a key rotation: a token with a new kid fetches the set again', async () => {
    const verifier = new TokenVerifier({ jwksUrl: url });
    expect((await verifier.verify(await sign('ec-1'))).sub).toBe('alice');
    // ec-2 is not published yet: no key matches.
    expect(await code(verifier.verify(await sign('ec-2')))).toBe('UNAUTHENTICATED: no key of the issuer matches this token');
    published = ['ec-2'];
    const other = new TokenVerifier({ jwksUrl: url });
    expect((await other.verify(await sign('ec-2'))).sub).toBe('alice');
    // The retired key no longer verifies for a verifier that fetched after the rotation.
    expect(await code(other.verify(await sign('ec-1')))).toBe('UNAUTHENTICATED: no key of the issuer matches this token');
    published = ['rsa-1', 'ec-1', 'ed-1'];
  });

  it('refuses a token signed by a key the issuer never published, and an HS256 token made with the public key as secret', async () => {
    const verifier = new TokenVerifier({ jwksUrl: url });
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await new SignJWT({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(stranger.privateKey);
    expect(await code(verifier.verify(forged))).toBe('UNAUTHENTICATED: bad token signature');
    // Algorithm confusion: no secrets configured, so HS256 has no key at all.
    const pem = keys[0]!.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await code(verifier.verify(signHs256({ sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 600 }, pem)))).toBe('UNAUTHENTICATED: unsupported token algorithm');
  });
});
