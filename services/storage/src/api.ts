// Owns the Storage gRPC API: history, sync, membership answers for the router, the
// conversation list and conversation admin. Reads cost the same whatever the history
// (pages by seq and bucket, heads and positions from the registers); membership changes are
// written to MongoDB first, then published as events (parley.messages for the sequencer,
// parley.membership for every cache), and the call answers once both are durable.
import { membershipChanges, membershipRecords, messagesRecords, type MessageBus, type ValidMembershipChange } from '@parley/bus';
import { MAX_BOTS_PER_CONVERSATION, ParleyError, absentConversationError, directConversationId, hasScope, isBotId, isReservedId, isValidId, randomId, unaryHandler, type Logger, type Principal } from '@parley/core';
import type { MembershipCache } from '@parley/membership';
import type { Conversation, HistoryOrder, MessagesResponse, StorageHandlers, StoredMessage } from '@parley/proto';
import { pageWindow, type MessageReader } from './reads';
import { positionKey, type ConversationHeads, type DirectMembers, type MemberPositions } from './state';
import type { ConversationDoc, ConversationStore, MembershipAnswer, StoredMessageDoc } from './store';

export interface StorageApiLimits {
  maxGroupMembers: number;
  maxPageSize: number;
}

/** Publishes membership changes where every cache and the sequencer learn of them. */
export class MembershipEvents {
  constructor(
    private readonly bus: MessageBus,
    private readonly topics: { messages: string; membership: string },
    private readonly local: ((change: ValidMembershipChange) => void)[] = [],
  ) {}

  async publish(conversationId: string, change: 'added' | 'removed', userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    const changes = membershipChanges(conversationId, change, userIds, Date.now());
    await Promise.all([
      this.bus.publish(this.topics.messages, changes.map((c) => messagesRecords.record({ kind: 'membership', change: c }))),
      this.bus.publish(this.topics.membership, changes.map((c) => membershipRecords.record({ kind: 'membership', change: c }))),
    ]);
    for (const c of changes) for (const apply of this.local) apply(c);
  }
}

/** Conversation documents for the conversation list (groups only; a direct one is known from its id). */
export class ConversationDocs {
  private readonly docs = new Map<string, ConversationDoc>();

  constructor(
    private readonly store: ConversationStore,
    private readonly max = 100_000,
  ) {}

  async get(conversationId: string): Promise<ConversationDoc | undefined> {
    const hit = this.docs.get(conversationId);
    if (hit) return hit;
    const doc = await this.store.getConversation(conversationId);
    if (doc) {
      this.docs.set(conversationId, doc);
      if (this.docs.size > this.max) this.docs.delete(this.docs.keys().next().value as string);
    }
    return doc;
  }

  invalidate(conversationId: string): void {
    this.docs.delete(conversationId);
  }
}

export interface StorageApiDeps {
  conversations: ConversationStore;
  /** A direct conversation's members without the database (memory, then Redis, then the store). */
  directs: DirectMembers;
  heads: ConversationHeads;
  positions: MemberPositions;
  reader: MessageReader;
  /** Who may read what (fed by the membership broadcast). */
  readers: MembershipCache;
  conversationDocs: ConversationDocs;
  events: MembershipEvents;
  log: Logger;
  limits: StorageApiLimits;
}

function requireId(value: string, field: string): string {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
  return value;
}

/** A person's id: valid, and outside the service namespaces (bot:, system), which no user may hold. */
function requireUserId(value: string, field: string): string {
  requireId(value, field);
  if (isReservedId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field}: ${value} is a reserved service identity (bot:, system), not a user; allow a bot with AddBots`);
  return value;
}

function requireIds(values: readonly string[], field: string, max: number): string[] {
  values.forEach((v, i) => requireUserId(v, `${field}[${i}]`));
  const unique = [...new Set(values)];
  if (unique.length > max) throw new ParleyError('INVALID_ARGUMENT', `${field} has more than ${max} distinct entries`);
  return unique;
}

function toMessage(m: StoredMessageDoc): StoredMessage {
  return { ...m };
}

function requireBotIds(values: readonly string[], field: string, allowEmpty: boolean): string[] {
  values.forEach((v, i) => {
    if (!isBotId(v)) throw new ParleyError('INVALID_ARGUMENT', `${field}[${i}] must be a bot id: bot: and [a-z0-9][a-z0-9_.-]{0,59}`);
  });
  const unique = [...new Set(values)];
  if (!allowEmpty && unique.length === 0) throw new ParleyError('INVALID_ARGUMENT', `${field} needs at least one bot id`);
  if (unique.length > MAX_BOTS_PER_CONVERSATION) throw new ParleyError('INVALID_ARGUMENT', `${field} has more than ${MAX_BOTS_PER_CONVERSATION} distinct entries`);
  return unique;
}

function toConversation(c: ConversationDoc, lastSeq: number): Conversation {
  return {
    conversationId: c.conversationId,
    kind: c.kind === 'direct' ? 'CONVERSATION_KIND_DIRECT' : 'CONVERSATION_KIND_GROUP',
    memberCount: c.memberCount,
    lastSeq,
    createdAt: c.createdAt,
    botIds: c.botIds,
  };
}

function pageSize(requested: number, fallback: number, max: number): number {
  if (requested < 0) throw new ParleyError('INVALID_ARGUMENT', 'limit must not be negative');
  return Math.min(requested === 0 ? fallback : requested, max);
}

/** A direct conversation's id says what it is; its members never change. */
const isDirect = (conversationId: string) => conversationId.startsWith('d_');

/**
 * Who is in a conversation: a direct one's pair from memory or Redis, anything else from the
 * store. Whether a bot may post is the store's to answer for both kinds (a direct pair never
 * changes, the bots allowed into it may).
 */
export function membershipOf(directs: DirectMembers, conversations: Pick<ConversationStore, 'membership'>): (conversationId: string, userId: string) => Promise<MembershipAnswer> {
  return (conversationId, userId) => (isDirect(conversationId) && !isBotId(userId) ? directs.membership(conversationId, userId) : conversations.membership(conversationId, userId));
}

export function storageHandlers(deps: StorageApiDeps): StorageHandlers {
  const { conversations, heads, log, limits } = deps;
  const membership = membershipOf(deps.directs, conversations);

  async function conversationOrThrow(conversationId: string): Promise<ConversationDoc> {
    const conversation = await conversations.getConversation(requireId(conversationId, 'conversation_id'));
    if (!conversation) throw new ParleyError('NOT_FOUND', `conversation ${conversationId} does not exist`);
    return conversation;
  }

  async function headOf(conversationId: string): Promise<number> {
    return (await heads.get([conversationId])).get(conversationId) ?? 0;
  }

  async function checkReader(conversationId: string, userId: string, principal: Principal | undefined): Promise<void> {
    requireId(conversationId, 'conversation_id');
    if (userId === '') {
      // A trusted read says so by its credential, never by leaving a field empty.
      if (hasScope(principal, 'messages:read-all') || principal?.kind === 'development') return;
      throw new ParleyError('PERMISSION_DENIED', 'reading without a user_id needs an API key with the scope messages:read-all');
    }
    // A bot may post where it is allowed, but it is no member: it reads nothing as itself.
    requireUserId(userId, 'user_id');
    const { exists, member } = await deps.readers.isMember(conversationId, userId);
    if (!exists) throw absentConversationError(conversationId);
    if (!member) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
  }

  async function page(conversationId: string, query: { fromSeq?: number; toSeq?: number; order: 'asc' | 'desc'; limit: number }): Promise<MessagesResponse> {
    const head = await headOf(conversationId);
    const { lo, hi, hasMore } = pageWindow(query, head);
    const rows = await deps.reader.range(conversationId, { lo, hi }, head);
    const ordered = query.order === 'asc' ? rows : rows.reverse();
    return { messages: ordered.map(toMessage), hasMore };
  }

  async function afterChange(conversationId: string): Promise<Conversation> {
    deps.conversationDocs.invalidate(conversationId);
    return toConversation(await conversationOrThrow(conversationId), await headOf(conversationId));
  }

  return {
    History: unaryHandler('Storage.History', log, async (req, ctx) => {
      await checkReader(req.conversationId, req.userId, ctx.principal);
      if (req.fromSeq < 0 || req.toSeq < 0) throw new ParleyError('INVALID_ARGUMENT', 'seq bounds must not be negative');
      const order: HistoryOrder = req.order;
      return page(req.conversationId, {
        ...(req.fromSeq > 0 ? { fromSeq: req.fromSeq } : {}),
        ...(req.toSeq > 0 ? { toSeq: req.toSeq } : {}),
        order: order === 'HISTORY_ORDER_OLDEST_FIRST' ? 'asc' : 'desc',
        limit: pageSize(req.limit, 50, limits.maxPageSize),
      });
    }),
    Sync: unaryHandler('Storage.Sync', log, async (req, ctx) => {
      await checkReader(req.conversationId, req.userId, ctx.principal);
      if (req.afterSeq < 0) throw new ParleyError('INVALID_ARGUMENT', 'after_seq must not be negative');
      return page(req.conversationId, { fromSeq: req.afterSeq + 1, order: 'asc', limit: pageSize(req.limit, 100, limits.maxPageSize) });
    }),
    Membership: unaryHandler('Storage.Membership', log, async (req) => {
      const answer = await membership(requireId(req.conversationId, 'conversation_id'), requireId(req.userId, 'user_id'));
      if (!answer.exists) throw new ParleyError('NOT_FOUND', `conversation ${req.conversationId} does not exist`);
      return { member: answer.member, memberCount: answer.memberCount, memberIds: answer.memberIds ?? [], complete: answer.memberIds !== undefined };
    }),
    CreateDirect: unaryHandler('Storage.CreateDirect', log, async (req) => {
      const a = requireUserId(req.userA, 'user_a');
      const b = requireUserId(req.userB, 'user_b');
      if (a === b) throw new ParleyError('INVALID_ARGUMENT', 'a direct conversation needs two different users');
      const conversationId = directConversationId(a, b);
      const createdAt = Date.now();
      const result = await conversations.createConversation({ conversationId, kind: 'direct', memberIds: [a, b], createdAt });
      if (result === 'created') {
        // Its head and both members' positions are 0, and its members are these two: known
        // without a lookup later.
        await Promise.all([
          heads.created(conversationId, new Map([a, b].flatMap((u) => [[positionKey(conversationId, u, 'delivered'), 0] as const, [positionKey(conversationId, u, 'read'), 0] as const]))),
          deps.directs.created(conversationId, [a, b]),
        ]);
        return toConversation({ conversationId, kind: 'direct', createdAt, memberCount: 2, botIds: [] }, 0);
      }
      return toConversation(await conversationOrThrow(conversationId), await headOf(conversationId));
    }),
    CreateGroup: unaryHandler('Storage.CreateGroup', log, async (req) => {
      const memberIds = requireIds(req.memberIds, 'member_ids', limits.maxGroupMembers);
      if (memberIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a group needs at least one member');
      const botIds = requireBotIds(req.botIds, 'bot_ids', true);
      const conversationId = req.conversationId === '' ? randomId('g_') : requireId(req.conversationId, 'conversation_id');
      if (isDirect(conversationId)) throw new ParleyError('INVALID_ARGUMENT', 'the d_ prefix is reserved for direct conversations');
      const result = await conversations.createConversation({ conversationId, kind: 'group', memberIds, createdAt: Date.now() });
      if (result === 'exists') throw new ParleyError('ALREADY_EXISTS', `conversation ${conversationId} already exists`);
      await heads.created(conversationId);
      if (botIds.length > 0) {
        // A new conversation holds no bots: the limit cannot be reached here.
        await conversations.addBots(conversationId, botIds, MAX_BOTS_PER_CONVERSATION);
        // Nothing was cached about a conversation just created, but the sequencer applies
        // the stream in order: the grant goes there like any later one.
        await deps.events.publish(conversationId, 'added', botIds);
      }
      return toConversation(await conversationOrThrow(conversationId), 0);
    }),
    AddMembers: unaryHandler('Storage.AddMembers', log, async (req) => {
      const conversation = await conversationOrThrow(req.conversationId);
      if (conversation.kind === 'direct') throw new ParleyError('INVALID_ARGUMENT', 'members of a direct conversation cannot change');
      const userIds = requireIds(req.userIds, 'user_ids', limits.maxGroupMembers);
      // The store enforces the limit atomically: concurrent adds cannot overfill a group.
      if ((await conversations.addMembers(req.conversationId, userIds, limits.maxGroupMembers)).result === 'full') {
        throw new ParleyError('RESOURCE_EXHAUSTED', `a group holds at most ${limits.maxGroupMembers} members`, { retryable: false });
      }
      // Every user asked for, not only those new: a retry after a failed publish must still
      // reach the caches (applying a change twice changes nothing).
      await deps.events.publish(req.conversationId, 'added', userIds);
      return afterChange(req.conversationId);
    }),
    RemoveMembers: unaryHandler('Storage.RemoveMembers', log, async (req) => {
      const conversation = await conversationOrThrow(req.conversationId);
      if (conversation.kind === 'direct') throw new ParleyError('INVALID_ARGUMENT', 'members of a direct conversation cannot change');
      const userIds = requireIds(req.userIds, 'user_ids', limits.maxGroupMembers);
      await conversations.removeMembers(req.conversationId, userIds);
      await deps.events.publish(req.conversationId, 'removed', userIds);
      return afterChange(req.conversationId);
    }),
    // The bots a conversation allows travel as membership changes (their ids say they are
    // bots), so every cache, and the sequencer in the stream's order, learn of them the way
    // they learn of members. Direct conversations take bots too: their pair never changes,
    // but an admin may let a service post into them (a support or safety notice).
    AddBots: unaryHandler('Storage.AddBots', log, async (req) => {
      await conversationOrThrow(req.conversationId);
      const botIds = requireBotIds(req.botIds, 'bot_ids', false);
      const result = await conversations.addBots(req.conversationId, botIds, MAX_BOTS_PER_CONVERSATION);
      if (result === 'absent') throw new ParleyError('NOT_FOUND', `conversation ${req.conversationId} does not exist`);
      if (result === 'full') throw new ParleyError('RESOURCE_EXHAUSTED', `a conversation allows at most ${MAX_BOTS_PER_CONVERSATION} bots`, { retryable: false });
      // Every bot asked for, not only those new: a retry after a failed publish still reaches the caches.
      await deps.events.publish(req.conversationId, 'added', botIds);
      return afterChange(req.conversationId);
    }),
    RemoveBots: unaryHandler('Storage.RemoveBots', log, async (req) => {
      await conversationOrThrow(req.conversationId);
      const botIds = requireBotIds(req.botIds, 'bot_ids', false);
      await conversations.removeBots(req.conversationId, botIds);
      await deps.events.publish(req.conversationId, 'removed', botIds);
      return afterChange(req.conversationId);
    }),
    ListMembers: unaryHandler('Storage.ListMembers', log, async (req) => {
      if (req.afterUserId !== '') requireId(req.afterUserId, 'after_user_id');
      const limit = pageSize(req.limit, 10_000, Math.max(limits.maxGroupMembers, 10_000));
      if (isDirect(requireId(req.conversationId, 'conversation_id'))) {
        const answer = await membership(req.conversationId, '');
        if (!answer.exists) throw new ParleyError('NOT_FOUND', `conversation ${req.conversationId} does not exist`);
        const after = (answer.memberIds ?? []).filter((u) => u > req.afterUserId).sort();
        return { userIds: after.slice(0, limit), hasMore: after.length > limit };
      }
      await conversationOrThrow(req.conversationId);
      return conversations.listMembers(req.conversationId, req.afterUserId, limit);
    }),
    GetConversation: unaryHandler('Storage.GetConversation', log, async (req) => {
      const conversation = await conversationOrThrow(req.conversationId);
      return toConversation(conversation, await headOf(conversation.conversationId));
    }),
    ListConversations: unaryHandler('Storage.ListConversations', log, async (req) => {
      const userId = requireUserId(req.userId, 'user_id');
      if (req.afterConversationId !== '') requireId(req.afterConversationId, 'after_conversation_id');
      const limit = pageSize(req.limit, 100, limits.maxPageSize);
      const ids = await conversations.conversationsOf(userId, req.afterConversationId, limit + 1);
      const pageIds = ids.slice(0, limit);
      const [docs, lastSeqs, positions] = await Promise.all([
        Promise.all(pageIds.map((id) => (isDirect(id) ? Promise.resolve({ conversationId: id, kind: 'direct' as const, createdAt: 0, memberCount: 2, botIds: [] }) : deps.conversationDocs.get(id)))),
        heads.get(pageIds),
        deps.positions.get(pageIds.flatMap((conversationId) => [
          { conversationId, userId, kind: 'delivered' as const },
          { conversationId, userId, kind: 'read' as const },
        ])),
      ]);
      const out = [];
      for (const [i, conversationId] of pageIds.entries()) {
        const doc = docs[i];
        if (!doc) continue;
        const lastSeq = lastSeqs.get(conversationId) ?? 0;
        const readSeq = Math.min(positions.get(positionKey(conversationId, userId, 'read')) ?? 0, lastSeq);
        const deliveredSeq = Math.min(Math.max(positions.get(positionKey(conversationId, userId, 'delivered')) ?? 0, readSeq), lastSeq);
        // A user's list holds that user's positions; who else may post (bots) is GetConversation's.
        const { botIds: _botIds, ...state } = toConversation(doc, lastSeq);
        out.push({ ...state, deliveredSeq, readSeq, unread: Math.max(0, lastSeq - readSeq) });
      }
      return { conversations: out, hasMore: ids.length > limit };
    }),
  };
}
