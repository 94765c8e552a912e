// Owns the Storage gRPC API: history, sync, send checks and conversation admin.
import { ParleyError, directConversationId, isValidId, randomId, unaryHandler, type Logger } from '@parley/core';
import type { Conversation, HistoryOrder, MessagesResponse, StorageHandlers, StoredMessage } from '@parley/proto';
import type { ConversationDoc, MessageStore, StoredMessageDoc } from './store';

export interface StorageApiLimits {
  maxGroupMembers: number;
  maxPageSize: number;
}

function requireId(value: string, field: string): string {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
  return value;
}

function requireIds(values: readonly string[], field: string, max: number): string[] {
  values.forEach((v, i) => requireId(v, `${field}[${i}]`));
  const unique = [...new Set(values)];
  if (unique.length > max) throw new ParleyError('INVALID_ARGUMENT', `${field} has more than ${max} distinct entries`);
  return unique;
}

function toMessage(m: StoredMessageDoc): StoredMessage {
  return { ...m };
}

function toConversation(c: ConversationDoc): Conversation {
  return {
    conversationId: c.conversationId,
    kind: c.kind === 'direct' ? 'CONVERSATION_KIND_DIRECT' : 'CONVERSATION_KIND_GROUP',
    memberCount: c.memberCount,
    lastSeq: c.lastSeq,
    createdAt: c.createdAt,
  };
}

function pageSize(requested: number, fallback: number, max: number): number {
  if (requested < 0) throw new ParleyError('INVALID_ARGUMENT', 'limit must not be negative');
  return Math.min(requested === 0 ? fallback : requested, max);
}

export function storageHandlers(store: MessageStore, log: Logger, limits: StorageApiLimits): StorageHandlers {
  async function conversationOrThrow(conversationId: string): Promise<ConversationDoc> {
    const conversation = await store.getConversation(requireId(conversationId, 'conversation_id'));
    if (!conversation) throw new ParleyError('NOT_FOUND', `conversation ${conversationId} does not exist`);
    return conversation;
  }

  async function checkReader(conversationId: string, userId: string): Promise<void> {
    requireId(conversationId, 'conversation_id');
    if (userId === '') return; // trusted internal caller
    requireId(userId, 'user_id');
    if (!(await store.isMember(conversationId, userId))) {
      await conversationOrThrow(conversationId);
      throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
    }
  }

  async function page(conversationId: string, query: { fromSeq?: number; toSeq?: number; order: 'asc' | 'desc'; limit: number }): Promise<MessagesResponse> {
    // One extra row tells whether more exist, without a count.
    const rows = await store.range(conversationId, { ...query, limit: query.limit + 1 });
    return { messages: rows.slice(0, query.limit).map(toMessage), hasMore: rows.length > query.limit };
  }

  return {
    History: unaryHandler('Storage.History', log, async (req) => {
      await checkReader(req.conversationId, req.userId);
      if (req.fromSeq < 0 || req.toSeq < 0) throw new ParleyError('INVALID_ARGUMENT', 'seq bounds must not be negative');
      const order: HistoryOrder = req.order;
      return page(req.conversationId, {
        ...(req.fromSeq > 0 ? { fromSeq: req.fromSeq } : {}),
        ...(req.toSeq > 0 ? { toSeq: req.toSeq } : {}),
        order: order === 'HISTORY_ORDER_OLDEST_FIRST' ? 'asc' : 'desc',
        limit: pageSize(req.limit, 50, limits.maxPageSize),
      });
    }),
    Sync: unaryHandler('Storage.Sync', log, async (req) => {
      await checkReader(req.conversationId, req.userId);
      if (req.afterSeq < 0) throw new ParleyError('INVALID_ARGUMENT', 'after_seq must not be negative');
      return page(req.conversationId, { fromSeq: req.afterSeq + 1, order: 'asc', limit: pageSize(req.limit, 100, limits.maxPageSize) });
    }),
    CheckSend: unaryHandler('Storage.CheckSend', log, async (req) => {
      requireId(req.conversationId, 'conversation_id');
      requireId(req.userId, 'user_id');
      const [member, existing] = await Promise.all([
        store.isMember(req.conversationId, req.userId),
        req.serverMsgId ? store.findMessage(req.serverMsgId) : Promise.resolve(undefined),
      ]);
      if (!member) await conversationOrThrow(req.conversationId);
      return existing && existing.conversationId === req.conversationId ? { member, existing: toMessage(existing) } : { member };
    }),
    CreateDirect: unaryHandler('Storage.CreateDirect', log, async (req) => {
      const a = requireId(req.userA, 'user_a');
      const b = requireId(req.userB, 'user_b');
      if (a === b) throw new ParleyError('INVALID_ARGUMENT', 'a direct conversation needs two different users');
      const conversationId = directConversationId(a, b);
      await store.createConversation({ conversationId, kind: 'direct', memberIds: [a, b], createdAt: Date.now() });
      return toConversation(await conversationOrThrow(conversationId));
    }),
    CreateGroup: unaryHandler('Storage.CreateGroup', log, async (req) => {
      const memberIds = requireIds(req.memberIds, 'member_ids', limits.maxGroupMembers);
      if (memberIds.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'a group needs at least one member');
      const conversationId = req.conversationId === '' ? randomId('g_') : requireId(req.conversationId, 'conversation_id');
      if (conversationId.startsWith('d_')) throw new ParleyError('INVALID_ARGUMENT', 'the d_ prefix is reserved for direct conversations');
      const result = await store.createConversation({ conversationId, kind: 'group', memberIds, createdAt: Date.now() });
      if (result === 'exists') throw new ParleyError('ALREADY_EXISTS', `conversation ${conversationId} already exists`);
      return toConversation(await conversationOrThrow(conversationId));
    }),
    AddMembers: unaryHandler('Storage.AddMembers', log, async (req) => {
      const conversation = await conversationOrThrow(req.conversationId);
      if (conversation.kind === 'direct') throw new ParleyError('INVALID_ARGUMENT', 'members of a direct conversation cannot change');
      const userIds = requireIds(req.userIds, 'user_ids', limits.maxGroupMembers);
      // The store enforces the limit atomically: concurrent adds cannot overfill a group.
      if ((await store.addMembers(req.conversationId, userIds, limits.maxGroupMembers)) === 'full') {
        throw new ParleyError('RESOURCE_EXHAUSTED', `a group holds at most ${limits.maxGroupMembers} members`, { retryable: false });
      }
      return toConversation(await conversationOrThrow(req.conversationId));
    }),
    RemoveMembers: unaryHandler('Storage.RemoveMembers', log, async (req) => {
      const conversation = await conversationOrThrow(req.conversationId);
      if (conversation.kind === 'direct') throw new ParleyError('INVALID_ARGUMENT', 'members of a direct conversation cannot change');
      await store.removeMembers(req.conversationId, requireIds(req.userIds, 'user_ids', limits.maxGroupMembers));
      return toConversation(await conversationOrThrow(req.conversationId));
    }),
    ListMembers: unaryHandler('Storage.ListMembers', log, async (req) => {
      await conversationOrThrow(req.conversationId);
      return { userIds: await store.listMembers(req.conversationId) };
    }),
    GetConversation: unaryHandler('Storage.GetConversation', log, async (req) => toConversation(await conversationOrThrow(req.conversationId))),
    ListConversations: unaryHandler('Storage.ListConversations', log, async (req) => {
      const userId = requireId(req.userId, 'user_id');
      if (req.afterConversationId !== '') requireId(req.afterConversationId, 'after_conversation_id');
      const limit = pageSize(req.limit, 100, limits.maxPageSize);
      const rows = await store.listConversationsOf(userId, req.afterConversationId, limit + 1);
      return {
        conversations: rows.slice(0, limit).map((r) => ({
          ...toConversation(r.conversation),
          deliveredSeq: Math.min(r.deliveredSeq, r.conversation.lastSeq),
          readSeq: Math.min(r.readSeq, r.conversation.lastSeq),
          unread: Math.max(0, r.conversation.lastSeq - r.readSeq),
        })),
        hasMore: rows.length > limit,
      };
    }),
  };
}
