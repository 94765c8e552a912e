// In-memory message store, for unit tests only (same contract as MongoDB).
import type { ConversationDoc, ConversationKindName, InsertResult, MembershipState, MessageStore, PositionKind, RangeQuery, StoredMessageDoc } from './port';

export class MemoryMessageStore implements MessageStore {
  private readonly conversations = new Map<string, { kind: ConversationKindName; createdAt: number; lastSeq: number; members: Set<string> }>();
  private readonly messages = new Map<string, StoredMessageDoc>();
  private readonly bySeq = new Map<string, Map<number, StoredMessageDoc>>();
  private readonly byClientId = new Set<string>();
  /** `${conversationId}\n${userId}\n${deviceId}` -> positions; and the member-level maxima. */
  private readonly devicePositions = new Map<string, { delivered: number; read: number }>();
  private readonly memberPositions = new Map<string, { delivered: number; read: number }>();

  async recordPosition(p: { conversationId: string; userId: string; deviceId: string; kind: PositionKind; seq: number }): Promise<number | undefined> {
    const c = this.conversations.get(p.conversationId);
    if (!c || !c.members.has(p.userId)) return undefined;
    const seq = Math.min(p.seq, c.lastSeq);
    if (seq < 1) return undefined;
    const deviceKey = `${p.conversationId}\n${p.userId}\n${p.deviceId}`;
    const device = this.devicePositions.get(deviceKey) ?? { delivered: 0, read: 0 };
    if (device[p.kind] >= seq) return undefined;
    device[p.kind] = seq;
    if (p.kind === 'read') device.delivered = Math.max(device.delivered, seq);
    this.devicePositions.set(deviceKey, device);
    const memberKey = `${p.conversationId}\n${p.userId}`;
    const member = this.memberPositions.get(memberKey) ?? { delivered: 0, read: 0 };
    member.delivered = Math.max(member.delivered, device.delivered);
    member.read = Math.max(member.read, device.read);
    this.memberPositions.set(memberKey, member);
    return seq;
  }

  async listConversationsOf(userId: string, after: string, limit: number): Promise<MembershipState[]> {
    const ids = [...this.conversations.keys()].filter((id) => id > after && this.conversations.get(id)!.members.has(userId)).sort();
    const out: MembershipState[] = [];
    for (const id of ids.slice(0, limit)) {
      const conversation = (await this.getConversation(id))!;
      const positions = this.memberPositions.get(`${id}\n${userId}`) ?? { delivered: 0, read: 0 };
      out.push({ conversation, deliveredSeq: positions.delivered, readSeq: positions.read });
    }
    return out;
  }

  async bumpLastSeq(conversationId: string, seq: number): Promise<void> {
    const c = this.conversations.get(conversationId);
    if (c) c.lastSeq = Math.max(c.lastSeq, seq);
  }

  async createConversation(c: { conversationId: string; kind: ConversationKindName; memberIds: readonly string[]; createdAt: number }): Promise<'created' | 'exists'> {
    if (this.conversations.has(c.conversationId)) return 'exists';
    this.conversations.set(c.conversationId, { kind: c.kind, createdAt: c.createdAt, lastSeq: 0, members: new Set(c.memberIds) });
    return 'created';
  }

  async getConversation(conversationId: string): Promise<ConversationDoc | undefined> {
    const c = this.conversations.get(conversationId);
    if (!c) return undefined;
    return { conversationId, kind: c.kind, createdAt: c.createdAt, lastSeq: c.lastSeq, memberCount: c.members.size };
  }

  async addMembers(conversationId: string, userIds: readonly string[], maxMembers = Number.MAX_SAFE_INTEGER): Promise<'added' | 'full'> {
    const c = this.conversations.get(conversationId);
    if (!c) return 'added';
    const fresh = new Set(userIds.filter((u) => !c.members.has(u)));
    if (c.members.size + fresh.size > maxMembers) return 'full';
    for (const u of fresh) c.members.add(u);
    return 'added';
  }

  async removeMembers(conversationId: string, userIds: readonly string[]): Promise<void> {
    const c = this.conversations.get(conversationId);
    for (const u of userIds) c?.members.delete(u);
  }

  async listMembers(conversationId: string): Promise<string[]> {
    return [...(this.conversations.get(conversationId)?.members ?? [])].sort();
  }

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    return this.conversations.get(conversationId)?.members.has(userId) ?? false;
  }

  async findMessage(serverMsgId: string): Promise<StoredMessageDoc | undefined> {
    const m = this.messages.get(serverMsgId);
    return m ? { ...m } : undefined;
  }

  async findMessages(serverMsgIds: readonly string[]): Promise<StoredMessageDoc[]> {
    return serverMsgIds.flatMap((id) => {
      const m = this.messages.get(id);
      return m ? [{ ...m }] : [];
    });
  }

  async insertRun(messages: readonly StoredMessageDoc[]): Promise<number> {
    let n = 0;
    while (n < messages.length && this.put(messages[n]!) === 'inserted') n++;
    return n;
  }

  async hasSeq(conversationId: string, seq: number): Promise<boolean> {
    return this.bySeq.get(conversationId)?.has(seq) ?? false;
  }

  async maxSeq(conversationId: string): Promise<number> {
    return Math.max(0, ...(this.bySeq.get(conversationId)?.keys() ?? []));
  }

  async lastSeqHint(conversationId: string): Promise<number> {
    return this.conversations.get(conversationId)?.lastSeq ?? 0;
  }

  async insertMessage(message: StoredMessageDoc): Promise<InsertResult> {
    const result = this.put(message);
    const c = this.conversations.get(message.conversationId);
    if (result === 'inserted' && c) c.lastSeq = Math.max(c.lastSeq, message.seq);
    return result;
  }

  /** Applies the unique rules and stores; leaves the lastSeq hint alone (insertRun's contract). */
  private put(message: StoredMessageDoc): InsertResult {
    const clientKey = JSON.stringify([message.conversationId, message.senderId, message.clientMsgId]);
    if (this.messages.has(message.serverMsgId) || this.byClientId.has(clientKey)) return 'duplicate';
    const seqs = this.bySeq.get(message.conversationId) ?? new Map<number, StoredMessageDoc>();
    if (seqs.has(message.seq)) return 'seq-taken';
    const copy = { ...message };
    seqs.set(message.seq, copy);
    this.bySeq.set(message.conversationId, seqs);
    this.messages.set(message.serverMsgId, copy);
    this.byClientId.add(clientKey);
    return 'inserted';
  }

  async range(conversationId: string, query: RangeQuery): Promise<StoredMessageDoc[]> {
    const all = [...(this.bySeq.get(conversationId)?.values() ?? [])]
      .filter((m) => (query.fromSeq === undefined || m.seq >= query.fromSeq) && (query.toSeq === undefined || m.seq <= query.toSeq))
      .sort((a, b) => (query.order === 'asc' ? a.seq - b.seq : b.seq - a.seq));
    return all.slice(0, query.limit).map((m) => ({ ...m }));
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
