// Owns the shape and derivation of Parley's identifiers.
import { createHash, randomBytes } from 'node:crypto';
import { ParleyError } from './errors';

/** User, device, conversation and client message ids: printable, bounded, no separators that need escaping. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Service identities: `bot:<name>` (an internal service that posts as itself, with a key of its
 * own) and `system`/`system:<name>` (kept for Parley's own notices; no credential acts as one
 * today). Nobody can be a user with such an id (no token, no member, no reader), so a sender
 * id alone tells a client whether a person or a service wrote a message.
 */
export function isReservedId(value: string): boolean {
  return value.startsWith('bot:') || value === 'system' || value.startsWith('system:');
}

/** A bot's id: `bot:` and a lower-case name (one spelling per bot: no `bot:Support` beside `bot:support`). */
export const BOT_ID_PATTERN = /^bot:[a-z0-9][a-z0-9_.-]{0,59}$/;

export function isBotId(value: unknown): boolean {
  return typeof value === 'string' && BOT_ID_PATTERN.test(value);
}

/** A user's id: a valid id outside the reserved service namespaces. */
export function isUserId(value: unknown): value is string {
  return isValidId(value) && !isReservedId(value);
}

/** Most bots one conversation may allow (a short list kept with the conversation). */
export const MAX_BOTS_PER_CONVERSATION = 32;

function digest(parts: string[], length: number): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
    hash.update(`${part.length}:${part}|`);
  }
  return hash.digest('base64url').slice(0, length);
}

/** Deterministic, so a resend of the same clientMsgId gets the same serverMsgId without a lookup. */
export function serverMsgIdFor(conversationId: string, senderId: string, clientMsgId: string): string {
  return `m_${digest([conversationId, senderId, clientMsgId], 27)}`;
}

/** The one direct conversation of two users, whichever of them asks first. */
export function directConversationId(userA: string, userB: string): string {
  const [first, second] = userA < userB ? [userA, userB] : [userB, userA];
  return `d_${digest([first, second], 27)}`;
}

/**
 * Are these the two members of this direct conversation? The id is a digest of the pair, so
 * a pair that hashes to it proves who the members are without asking the store (a direct
 * conversation's members never change).
 */
export function isDirectPair(conversationId: string, memberIds: readonly unknown[]): memberIds is [string, string] {
  if (memberIds.length !== 2 || !conversationId.startsWith('d_')) return false;
  const [a, b] = memberIds;
  return isValidId(a) && isValidId(b) && a !== b && directConversationId(a, b) === conversationId;
}

/**
 * What a user who is not a member is told about a conversation that does not exist. A direct
 * conversation's id is derivable from its two users (directConversationId), so an outsider who
 * could tell "no such conversation" from "not a member" would learn who talks to whom: for a
 * direct id both answers are PERMISSION_DENIED. A group id is random and reveals nothing.
 */
export function absentConversationError(conversationId: string): ParleyError {
  return conversationId.startsWith('d_') ? new ParleyError('PERMISSION_DENIED', 'not a member of this conversation') : new ParleyError('NOT_FOUND', `conversation ${conversationId} does not exist`);
}

export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/**
 * Why a text cannot be stored exactly as given, or undefined when it can: U+0000 (PostgreSQL,
 * under FerretDB, refuses it in text) and lone surrogates (not encodable in UTF-8: they would
 * come back as U+FFFD) are refused at the edge, before anything is acked.
 */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain U+0000';
  if (!value.isWellFormed()) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}
