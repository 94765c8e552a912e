// Owns the shape and derivation of Parley's identifiers.
import { createHash, randomBytes } from 'node:crypto';

/** User, device, conversation and client message ids: printable, bounded, no separators that need escaping. */
export const ID_PATTERN = /^[A-Za-z0-9_.:@-]{1,128}$/;

export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

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

export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}
