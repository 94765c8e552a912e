// Owns the Keys gRPC API (create, list, revoke, and VerifyKey for the router) and turning a
// bearer into its principal for storage's own server: the bootstrap admin key from the
// install's secret (compared by hash, never stored), or a stored key whose secret hashes to
// what was stored and which is not revoked.
import { ParleyError, SCOPES, hashSecret, isBotId, isKeyId, knownScopes, newApiKey, parseApiKey, secretMatches, unaryHandler, type KeyVerifier, type Logger, type Principal, type Scope } from '@parley/core';
import type { ApiKey, KeysHandlers } from '@parley/proto';
import type { ApiKeyDoc, KeyStore } from './store';

type KeyPrincipal = Extract<Principal, { kind: 'key' }>;

export const BOOTSTRAP_KEY_ID = 'bootstrap';

const invalidKey = () => new ParleyError('UNAUTHENTICATED', 'invalid API key');

/** Bearers to principals from the key store (and the bootstrap secret); wrap it in a CachedKeyVerifier. */
export class StoreKeyVerifier implements KeyVerifier {
  private readonly bootstrapHash: string | undefined;

  constructor(
    private readonly keys: KeyStore,
    bootstrapKey: string | undefined,
  ) {
    this.bootstrapHash = bootstrapKey ? hashSecret(bootstrapKey) : undefined;
  }

  async verify(bearer: string): Promise<KeyPrincipal> {
    if (this.bootstrapHash && secretMatches(bearer, this.bootstrapHash)) return { kind: 'key', keyId: BOOTSTRAP_KEY_ID, name: 'bootstrap admin', scopes: SCOPES };
    const parsed = parseApiKey(bearer);
    if (!parsed) throw invalidKey();
    const doc = await this.keys.get(parsed.keyId);
    // The same answer for an unknown key, a wrong secret and a revoked key: nothing to probe.
    if (!doc || doc.revokedAt !== 0 || !secretMatches(parsed.secret, doc.secretHash)) throw invalidKey();
    return { kind: 'key', keyId: doc.keyId, name: doc.name, scopes: knownScopes(doc.scopes), ...(doc.botId !== undefined ? { botId: doc.botId } : {}) };
  }
}

const toApiKey = (doc: ApiKeyDoc): ApiKey => ({ keyId: doc.keyId, name: doc.name, scopes: doc.scopes, createdAt: doc.createdAt, revokedAt: doc.revokedAt, createdBy: doc.createdBy, botId: doc.botId ?? '' });

/**
 * A bot key is one identity and nothing else: bot_id and the scope messages:send-as-bot come
 * together, and such a key holds no other scope (so it can neither send as a user nor
 * administer anything: what it may do is read from the key alone).
 */
function requireBot(botId: string, scopes: readonly Scope[]): string | undefined {
  const wantsBot = scopes.includes('messages:send-as-bot');
  if (botId === '') {
    if (wantsBot) throw new ParleyError('INVALID_ARGUMENT', 'the scope messages:send-as-bot needs a bot_id (bot:<name>)');
    return undefined;
  }
  if (!isBotId(botId)) throw new ParleyError('INVALID_ARGUMENT', 'bot_id must be bot: and [a-z0-9][a-z0-9_.-]{0,59}');
  if (!wantsBot || scopes.length !== 1) throw new ParleyError('INVALID_ARGUMENT', 'a key with a bot_id holds exactly the scope messages:send-as-bot');
  return botId;
}

function requireScopes(scopes: readonly string[]): Scope[] {
  if (scopes.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a key needs at least one scope');
  const known = knownScopes(scopes);
  const unknown = scopes.find((s) => !known.includes(s as Scope));
  if (unknown !== undefined) throw new ParleyError('INVALID_ARGUMENT', `unknown scope ${unknown.slice(0, 64)}; scopes are ${SCOPES.join(', ')}`);
  return [...new Set(known)];
}

export function keysHandlers(deps: { keys: KeyStore; verifier: KeyVerifier; log: Logger; now?: () => number }): KeysHandlers {
  const { keys, verifier, log } = deps;
  const now = deps.now ?? Date.now;
  return {
    CreateKey: unaryHandler('Keys.CreateKey', log, async (req, ctx) => {
      const name = req.name.trim();
      if (name.length === 0 || name.length > 128 || [...name].some((ch) => ch.charCodeAt(0) < 0x20)) throw new ParleyError('INVALID_ARGUMENT', 'name: 1 to 128 printable characters');
      const scopes = requireScopes(req.scopes);
      const botId = requireBot(req.botId, scopes);
      const createdBy = ctx.principal?.kind === 'key' ? ctx.principal.keyId : 'development';
      for (;;) {
        const key = newApiKey();
        const doc: ApiKeyDoc = { keyId: key.keyId, name, scopes, secretHash: key.secretHash, createdAt: now(), createdBy, revokedAt: 0, ...(botId !== undefined ? { botId } : {}) };
        // 16 random characters: a taken id is next to impossible, and then simply drawn again.
        if ((await keys.insert(doc)) === 'created') {
          log.info({ audit: true, keyId: doc.keyId, keyName: name, scopes, createdBy, ...(botId !== undefined ? { botId } : {}) }, 'API key created');
          return { key: toApiKey(doc), bearer: key.bearer };
        }
      }
    }),
    ListKeys: unaryHandler('Keys.ListKeys', log, async (req) => {
      const limit = req.limit === 0 ? 100 : req.limit;
      if (limit < 1 || limit > 500) throw new ParleyError('INVALID_ARGUMENT', 'limit: 1 to 500 (0 means 100)');
      const page = await keys.list(req.afterKeyId, limit + 1);
      return { keys: page.slice(0, limit).map(toApiKey), hasMore: page.length > limit };
    }),
    RevokeKey: unaryHandler('Keys.RevokeKey', log, async (req, ctx) => {
      if (!isKeyId(req.keyId)) throw new ParleyError('INVALID_ARGUMENT', 'key_id: the 16 characters after pk_');
      const doc = await keys.revoke(req.keyId, now());
      if (!doc) throw new ParleyError('NOT_FOUND', `no key ${req.keyId}`);
      log.info({ audit: true, keyId: doc.keyId, keyName: doc.name, revokedBy: ctx.principal?.kind === 'key' ? ctx.principal.keyId : 'development' }, 'API key revoked');
      return toApiKey(doc);
    }),
    VerifyKey: unaryHandler('Keys.VerifyKey', log, async (req) => {
      const principal = await verifier.verify(req.bearer);
      return { keyId: principal.keyId, name: principal.name, scopes: [...principal.scopes], createdAt: 0, revokedAt: 0, createdBy: '', botId: principal.botId ?? '' };
    }),
  };
}
