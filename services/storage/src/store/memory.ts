// In-memory adapters of the store ports, for unit tests only (same contract as MongoDB).
import type {
  AppendConflict,
  ConversationDoc,
  ConversationKindName,
  ConversationStore,
  LoggedMessage,
  MembershipAnswer,
  MessageLog,
  PositionKind,
  PositionStore,
  PositionUpdate,
  StoredMessageDoc,
} from './port';
import { isBotId } from '@parley/core';
import { SMALL_CONVERSATION } from './port';

export class MemoryConversationStore implements ConversationStore {
  private readonly conversations = new Map<string, { kind: ConversationKindName; createdAt: number; members: Set<string>; bots: Set<string> }>();

  async createConversation(c: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'> {
    if (this.conversations.has(c.conversationId)) return 'exists';
    this.conversations.set(c.conversationId, { kind: c.kind, createdAt: c.createdAt, members: new Set(c.memberIds), bots: new Set() });
    return 'created';
  }

  async getConversation(conversationId: string): Promise<ConversationDoc | undefined> {
    const c = this.conversations.get(conversationId);
    if (!c) return undefined;
    return { conversationId, kind: c.kind, createdAt: c.createdAt, memberCount: c.members.size, botIds: [...c.bots].sort() };
  }

  async addBots(conversationId: string, botIds: readonly string[], maxBots: number): Promise<'added' | 'full' | 'absent'> {
    const c = this.conversations.get(conversationId);
    if (!c) return 'absent';
    const fresh = [...new Set(botIds)].filter((b) => !c.bots.has(b));
    if (c.bots.size + fresh.length > maxBots) return 'full';
    for (const b of fresh) c.bots.add(b);
    return 'added';
  }

  async removeBots(conversationId: string, botIds: readonly string[]): Promise<void> {
    const c = this.conversations.get(conversationId);
    for (const b of botIds) c?.bots.delete(b);
  }

  async addMembers(conversationId: string, userIds: readonly string[], maxMembers = Number.MAX_SAFE_INTEGER): Promise<{ result: 'added' | 'full'; added: string[] }> {
    const c = this.conversations.get(conversationId);
    if (!c) return { result: 'added', added: [] };
    const fresh = [...new Set(userIds)].filter((u) => !c.members.has(u));
    if (c.members.size + fresh.length > maxMembers) return { result: 'full', added: [] };
    for (const u of fresh) c.members.add(u);
    return { result: 'added', added: fresh };
  }

  async removeMembers(conversationId: string, userIds: readonly string[]): Promise<string[]> {
    const c = this.conversations.get(conversationId);
    if (!c) return [];
    const removed = [...new Set(userIds)].filter((u) => c.members.has(u));
    for (const u of removed) c.members.delete(u);
    return removed;
  }

  async listMembers(conversationId: string, after: string, limit: number): Promise<{ userIds: string[]; hasMore: boolean }> {
    const all = [...(this.conversations.get(conversationId)?.members ?? [])].filter((u) => u > after).sort();
    return { userIds: all.slice(0, limit), hasMore: all.length > limit };
  }

  async membership(conversationId: string, userId: string): Promise<MembershipAnswer> {
    const c = this.conversations.get(conversationId);
    if (!c) return { exists: false, member: false, memberCount: 0 };
    if (isBotId(userId)) return { exists: true, member: c.bots.has(userId), memberCount: c.members.size };
    const answer: MembershipAnswer = { exists: true, member: c.members.has(userId), memberCount: c.members.size };
    if (c.members.size <= SMALL_CONVERSATION) answer.memberIds = [...c.members].sort();
    return answer;
  }

  async conversationsOf(userId: string, after: string, limit: number): Promise<string[]> {
    return [...this.conversations.keys()]
      .filter((id) => id > after && this.conversations.get(id)!.members.has(userId))
      .sort()
      .slice(0, limit);
  }
}

export class MemoryMessageLog implements MessageLog {
  private readonly messages = new Map<string, LoggedMessage>();
  private readonly bySeq = new Map<string, Map<number, LoggedMessage>>();
  private readonly byClientId = new Map<string, LoggedMessage>();
  /** Appends that fail with this error before writing anything (failure injection for unit tests). */
  failNext: unknown[] = [];

  async append(messages: readonly LoggedMessage[]): Promise<{ inserted: number; conflict?: AppendConflict }> {
    const fail = this.failNext.shift();
    if (fail !== undefined) throw fail;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const clientKey = `${m.conversationId}\n${m.senderId}\n${m.clientMsgId}`;
      const existing = this.messages.get(m.serverMsgId) ?? this.byClientId.get(clientKey);
      if (existing) return { inserted: i, conflict: { index: i, existing: { ...existing } } };
      const seqs = this.bySeq.get(m.conversationId) ?? new Map<number, LoggedMessage>();
      if (seqs.has(m.seq)) return { inserted: i, conflict: { index: i } };
      const copy = { ...m };
      this.messages.set(m.serverMsgId, copy);
      this.byClientId.set(clientKey, copy);
      seqs.set(m.seq, copy);
      this.bySeq.set(m.conversationId, seqs);
    }
    return { inserted: messages.length };
  }

  async find(serverMsgId: string): Promise<LoggedMessage | undefined> {
    const m = this.messages.get(serverMsgId);
    return m ? { ...m } : undefined;
  }

  async range(conversationId: string, fromSeq: number, toSeq: number): Promise<StoredMessageDoc[]> {
    const seqs = this.bySeq.get(conversationId);
    if (!seqs) return [];
    return [...seqs.values()]
      .filter((m) => m.seq >= fromSeq && m.seq <= toSeq)
      .sort((a, b) => a.seq - b.seq)
      .map(({ origin: _origin, ...doc }) => doc);
  }

  async lastSeq(conversationId: string): Promise<number> {
    return Math.max(0, ...(this.bySeq.get(conversationId)?.keys() ?? []));
  }

  async noteStored(): Promise<void> {}

  /** Every stored message of a conversation, for tests. */
  all(conversationId: string): LoggedMessage[] {
    return [...(this.bySeq.get(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
  }
}

export class MemoryPositionStore implements PositionStore {
  private readonly positions = new Map<string, number>();

  async raise(positions: readonly PositionUpdate[]): Promise<void> {
    for (const p of positions) {
      const key = `${p.conversationId}\n${p.userId}\n${p.kind}`;
      this.positions.set(key, Math.max(this.positions.get(key) ?? 0, p.seq));
    }
  }

  async read(conversationId: string, userId: string, kind: PositionKind): Promise<number> {
    return this.positions.get(`${conversationId}\n${userId}\n${kind}`) ?? 0;
  }
}
