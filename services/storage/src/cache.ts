// Owns storage's small in-process caches: a TTL map, and the member lists every stored
// message and receipt is fanned out to (read at most once a second per conversation).
import type { MessageStore } from './store';

/** A small TTL cache, so a busy group does not reread its member list per message. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V): void {
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
}

export class MemberLists {
  private readonly cache = new TtlCache<string[]>(1_000, 10_000);

  constructor(private readonly store: Pick<MessageStore, 'listMembers'>) {}

  async get(conversationId: string): Promise<string[]> {
    const cached = this.cache.get(conversationId);
    if (cached) return cached;
    const fresh = await this.store.listMembers(conversationId);
    this.cache.set(conversationId, fresh);
    return fresh;
  }
}
