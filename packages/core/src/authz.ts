// Owns who may call which gRPC method: the principals (a Parley service proven by its
// certificate, a team's API key with its scopes, or, with GRPC_INSECURE in development, an
// unnamed internal caller), the scopes, one rule per method (deny when a method has none), and
// the API key format: `pk_<keyId>_<secret>`, of which only the SHA-256 of the secret is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ParleyError } from './errors';
import { isBotId, isReservedId } from './ids';
import type { ServiceName } from './peer';

export const SCOPES = [
  /** Create conversations, add and remove members, read any conversation's metadata and members. */
  'conversations:admin',
  /** Read conversations' metadata, members and a named user's conversation list. */
  'conversations:read',
  /** Send messages as any user (the request's sender_id). Every call is in the audit log. Never as a bot. */
  'messages:send-as',
  /** Send messages as the one bot the key was created for (its bot_id), into conversations that allow it. */
  'messages:send-as-bot',
  /** Read history and sync as a named user (their membership applies). */
  'messages:read',
  /** Read any conversation without naming a user (a trusted read). */
  'messages:read-all',
  /** Create, list and revoke API keys. */
  'keys:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

export type Principal =
  | { kind: 'service'; service: ServiceName }
  /** botId: the one bot (`bot:<name>`) a bot key acts as; such a key holds no other scope. */
  | { kind: 'key'; keyId: string; name: string; scopes: readonly Scope[]; botId?: string }
  /** GRPC_INSECURE (development): a caller with no key and no certificate, trusted as any service. */
  | { kind: 'development' };

/** A method may be called by any of `services`, or by an API key holding any of `scopes`. */
export interface MethodRule {
  services: readonly ServiceName[];
  scopes: readonly Scope[];
}

const rule = (services: readonly ServiceName[], scopes: readonly Scope[] = []): MethodRule => ({ services, scopes });

/** One rule per method Parley serves (docs/API.md has the same table). */
export const METHOD_RULES: Readonly<Record<string, MethodRule>> = {
  'Connector.Deliver': rule(['push']),
  // Who may send as whom (a user, a bot) is authorizeSender's, on the request's sender_id.
  'Router.Send': rule(['connector'], ['messages:send-as', 'messages:send-as-bot']),
  'Router.SendBatch': rule(['connector'], ['messages:send-as', 'messages:send-as-bot']),
  'Router.SendMany': rule(['connector'], ['messages:send-as']),
  'Router.Receipt': rule(['connector']),
  'Router.ReceiptBatch': rule(['connector']),
  'Router.Signal': rule(['connector']),
  'Storage.History': rule(['connector'], ['messages:read', 'messages:read-all']),
  'Storage.Sync': rule(['connector'], ['messages:read', 'messages:read-all']),
  'Storage.Membership': rule(['router']),
  'Storage.CreateDirect': rule([], ['conversations:admin']),
  'Storage.CreateGroup': rule([], ['conversations:admin']),
  'Storage.AddMembers': rule([], ['conversations:admin']),
  'Storage.RemoveMembers': rule([], ['conversations:admin']),
  'Storage.AddBots': rule([], ['conversations:admin']),
  'Storage.RemoveBots': rule([], ['conversations:admin']),
  // The router reads a large conversation's list whole when a storm of first lookups hits it (@parley/membership).
  'Storage.ListMembers': rule(['push', 'router'], ['conversations:admin', 'conversations:read']),
  'Storage.GetConversation': rule([], ['conversations:admin', 'conversations:read']),
  'Storage.ListConversations': rule(['connector'], ['conversations:admin', 'conversations:read']),
  'Keys.CreateKey': rule([], ['keys:admin']),
  'Keys.ListKeys': rule([], ['keys:admin']),
  'Keys.RevokeKey': rule([], ['keys:admin']),
  'Keys.VerifyKey': rule(['router']),
};

/** Why `principal` may not call `method`, or undefined when it may. */
export function authorize(method: string, principal: Principal): ParleyError | undefined {
  const r = METHOD_RULES[method];
  if (!r) return new ParleyError('PERMISSION_DENIED', `${method} has no access rule; nobody may call it`);
  switch (principal.kind) {
    case 'development':
      return undefined;
    case 'service':
      return r.services.includes(principal.service) ? undefined : new ParleyError('PERMISSION_DENIED', `the ${principal.service} service may not call ${method}`);
    case 'key':
      return r.scopes.some((s) => principal.scopes.includes(s))
        ? undefined
        : new ParleyError('PERMISSION_DENIED', r.scopes.length === 0 ? `${method} is for Parley's own services, not API keys` : `${method} needs an API key with one of the scopes ${r.scopes.join(', ')}`);
  }
}

/**
 * Why `principal` may not send as `senderId`, or undefined when it may (the method's rule has
 * already let it call Send). Two identities that never mix, whatever the scopes:
 * - a user: a connector (its socket's verified token), a key with messages:send-as, or a
 *   development caller; never a bot key;
 * - a bot: only a key with messages:send-as-bot created for that very bot. Neither a
 *   connector nor messages:send-as (any user) nor development may speak as a service.
 * Whether the conversation allows that bot is the router's next check (membership).
 * One function for every transport (gRPC today, HTTP next), so the rule is written once.
 */
export function authorizeSender(principal: Principal, senderId: string): ParleyError | undefined {
  if (isReservedId(senderId)) {
    if (!isBotId(senderId)) return new ParleyError('PERMISSION_DENIED', `${senderId.slice(0, 128)} is a reserved identity no credential may send as`);
    if (principal.kind !== 'key' || !principal.scopes.includes('messages:send-as-bot')) return new ParleyError('PERMISSION_DENIED', `sending as ${senderId} needs that bot's own API key (scope messages:send-as-bot)`);
    if (principal.botId !== senderId) return new ParleyError('PERMISSION_DENIED', `this key acts as ${principal.botId ?? 'no bot'}, not ${senderId}`);
    return undefined;
  }
  switch (principal.kind) {
    case 'development':
      return undefined;
    case 'service':
      return principal.service === 'connector' ? undefined : new ParleyError('PERMISSION_DENIED', `the ${principal.service} service may not send as a user`);
    case 'key':
      if (principal.botId !== undefined) return new ParleyError('PERMISSION_DENIED', `this key acts as ${principal.botId} only; it may not send as a user`);
      return principal.scopes.includes('messages:send-as') ? undefined : new ParleyError('PERMISSION_DENIED', 'sending as a user needs an API key with the scope messages:send-as');
  }
}

/** Whether the principal holds a scope (services and development callers hold none). */
export function hasScope(principal: Principal | undefined, scope: Scope): boolean {
  return principal?.kind === 'key' && principal.scopes.includes(scope);
}

/** The caller as it goes into an audit log line: never a secret. */
export function describePrincipal(principal: Principal): Record<string, string> {
  switch (principal.kind) {
    case 'service':
      return { principal: `service:${principal.service}` };
    case 'key':
      return { principal: `key:${principal.keyId}`, keyName: principal.name, ...(principal.botId !== undefined ? { botId: principal.botId } : {}) };
    case 'development':
      return { principal: 'development' };
  }
}

const KEY_ID = /^[a-z0-9]{16}$/;

/** The 16 characters after pk_. */
export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

/** The known scopes among stored or received strings (an unknown one grants nothing). */
export function knownScopes(scopes: readonly string[]): Scope[] {
  return scopes.filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
}
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedKey {
  keyId: string;
  secret: string;
}

/** `pk_<16 lower-case alphanumerics>_<43 base64url characters>`; anything else is not a key. */
export function parseApiKey(bearer: string): ParsedKey | undefined {
  const m = /^pk_([^_]+)_(.+)$/.exec(bearer);
  if (!m || !KEY_ID.test(m[1]!) || !SECRET.test(m[2]!)) return undefined;
  return { keyId: m[1]!, secret: m[2]! };
}

/** A new key: its id, the bearer to hand out once, and the hash to store. */
export function newApiKey(): { keyId: string; bearer: string; secretHash: string } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const keyId = Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
  const secret = randomBytes(32).toString('base64url');
  return { keyId, bearer: `pk_${keyId}_${secret}`, secretHash: hashSecret(secret) };
}

/** SHA-256, hex: the secrets are 256 random bits, so a slow hash adds nothing but latency. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, secretHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(secretHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The bearer credential in gRPC metadata or an HTTP header: `authorization: Bearer <key>` (any case). */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}

/** Turns a bearer into the key's principal, or throws UNAUTHENTICATED. */
export interface KeyVerifier {
  verify(bearer: string): Promise<Extract<Principal, { kind: 'key' }>>;
}

/**
 * Answers from memory for up to `ttlMs` (hits and misses alike), so a key costs one lookup
 * per process per TTL, not one per call; a revocation is therefore in force everywhere within
 * ttlMs of being stored. Bounded: at most `maxEntries` keys are remembered.
 */
export class CachedKeyVerifier implements KeyVerifier {
  private readonly entries = new Map<string, { at: number; answer: Promise<Extract<Principal, { kind: 'key' }>> }>();

  constructor(
    private readonly inner: KeyVerifier,
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  verify(bearer: string): Promise<Extract<Principal, { kind: 'key' }>> {
    // Keyed by the hash: the bearer itself is not kept in memory longer than the call.
    const cacheKey = hashSecret(bearer);
    const hit = this.entries.get(cacheKey);
    if (hit && this.now() - hit.at < this.ttlMs) return hit.answer;
    const answer = this.inner.verify(bearer);
    this.entries.delete(cacheKey);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const entry = { at: this.now(), answer };
    this.entries.set(cacheKey, entry);
    // A transient failure (the store down) is not remembered as an answer.
    answer.catch((err: unknown) => {
      if (!(err instanceof ParleyError && err.code === 'UNAUTHENTICATED') && this.entries.get(cacheKey) === entry) this.entries.delete(cacheKey);
    });
    return answer;
  }
}
