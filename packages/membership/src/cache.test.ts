import type { ValidMembershipChange } from '@parley/bus';
import { ParleyError, directConversationId } from '@parley/core';
import { MemberListCache, MembershipCache, type MembershipAnswer } from './cache';

const AT = 1_764_100_000_000;

const change = (conversationId: string, kind: 'added' | 'removed', userIds: string[]): ValidMembershipChange => ({ conversationId, change: kind, userIds, at: AT });

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A storage of conversations -> members, answering as Storage.Membership does; counts and can hold every lookup. */
class FakeMembership {
  readonly calls: [string, string][] = [];
  readonly held: { conversationId: string; userId: string; answer: Deferred<MembershipAnswer> }[] = [];
  hold = false;
  private readonly conversations = new Map<string, Set<string>>();

  constructor(private readonly small = 3) {}

  set(conversationId: string, userIds: string[]): void {
    this.conversations.set(conversationId, new Set(userIds));
  }

  readonly lookup = async (conversationId: string, userId: string): Promise<MembershipAnswer> => {
    this.calls.push([conversationId, userId]);
    if (this.hold) {
      const answer = deferred<MembershipAnswer>();
      this.held.push({ conversationId, userId, answer });
      return answer.promise;
    }
    return this.answer(conversationId, userId);
  };

  /** What storage answers now. */
  answer(conversationId: string, userId: string): MembershipAnswer {
    const members = this.conversations.get(conversationId);
    if (!members) return { exists: false, member: false, memberCount: 0 };
    const answer: MembershipAnswer = { exists: true, member: members.has(userId), memberCount: members.size };
    return members.size <= this.small ? { ...answer, memberIds: [...members] } : answer;
  }
}

describe('MembershipCache: answers', () => {
  it('caches the answer per (conversation, user), members and non-members alike', async () => {
    const storage = new FakeMembership(0); // large: per-user answers only
    storage.set('g_big', ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);

    expect(await cache.isMember('g_big', 'alice')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_big', 'alice')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_big', 'mallory')).toEqual({ exists: true, member: false });
    expect(await cache.isMember('g_big', 'mallory')).toEqual({ exists: true, member: false });
    expect(storage.calls).toEqual([
      ['g_big', 'alice'],
      ['g_big', 'mallory'],
    ]);
    // A user never asked about is not known from another user's answer.
    expect(cache.peek('g_big', 'bob')).toBeUndefined();
    expect(cache.peek('g_big', 'alice')).toBe(true);
    expect(cache.peek('g_big', 'mallory')).toBe(false);
    expect({ hits: cache.hits, misses: cache.misses, size: cache.size }).toEqual({ hits: 2, misses: 2, size: 1 });
  });

  it('caches a small conversation whole: one lookup answers every user of it', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_small', ['alice', 'bob', 'carol']);
    const cache = new MembershipCache(storage.lookup);

    expect(await cache.isMember('g_small', 'alice')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_small', 'carol')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_small', 'mallory')).toEqual({ exists: true, member: false });
    expect(storage.calls).toEqual([['g_small', 'alice']]);
  });

  it('does not cache a conversation that does not exist', async () => {
    const storage = new FakeMembership();
    const cache = new MembershipCache(storage.lookup);
    expect(await cache.isMember('g_gone', 'alice')).toEqual({ exists: false, member: false });
    expect(await cache.isMember('g_gone', 'alice')).toEqual({ exists: false, member: false });
    expect(storage.calls).toHaveLength(2);
    expect(cache.size).toBe(0);
    // Once it exists, the next question sees it.
    storage.set('g_gone', ['alice']);
    expect(await cache.isMember('g_gone', 'alice')).toEqual({ exists: true, member: true });
  });

  it('passes a failed lookup on and caches nothing of it', async () => {
    const storage = new FakeMembership();
    storage.set('g_team', ['alice']);
    let fail = true;
    const cache = new MembershipCache(async (c, u) => {
      if (fail) throw new ParleyError('UNAVAILABLE', 'storage down');
      return storage.lookup(c, u);
    });
    await expect(cache.isMember('g_team', 'alice')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(cache.size).toBe(0);
    fail = false;
    expect(await cache.isMember('g_team', 'alice')).toEqual({ exists: true, member: true });
  });

  it('shares one lookup among concurrent questions about the same user', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', ['alice']);
    const cache = new MembershipCache(storage.lookup);
    const answers = await Promise.all([cache.isMember('g_big', 'alice'), cache.isMember('g_big', 'alice'), cache.isMember('g_big', 'bob')]);
    expect(answers).toEqual([
      { exists: true, member: true },
      { exists: true, member: true },
      { exists: true, member: false },
    ]);
    expect(storage.calls).toEqual([
      ['g_big', 'alice'],
      ['g_big', 'bob'],
    ]);
  });
});

describe('MembershipCache: membership events', () => {
  it('applies added and removed to a conversation cached whole', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_small', ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);
    await cache.isMember('g_small', 'alice');

    cache.apply(change('g_small', 'added', ['carol', 'dave']));
    cache.apply(change('g_small', 'removed', ['bob']));
    expect(await cache.isMember('g_small', 'carol')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_small', 'dave')).toEqual({ exists: true, member: true });
    expect(await cache.isMember('g_small', 'bob')).toEqual({ exists: true, member: false });
    expect(await cache.isMember('g_small', 'alice')).toEqual({ exists: true, member: true });
    expect(storage.calls).toHaveLength(1);
  });

  it('applies added and removed to the per-user answers of a large conversation', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);
    await cache.isMember('g_big', 'alice');
    await cache.isMember('g_big', 'carol');

    cache.apply(change('g_big', 'removed', ['alice', 'bob'])); // bob was never asked about
    cache.apply(change('g_big', 'added', ['carol', 'dave']));
    expect(cache.peek('g_big', 'alice')).toBe(false);
    expect(cache.peek('g_big', 'carol')).toBe(true);
    // An added user is known to be a member; a removed user nobody asked about stays unknown.
    expect(cache.peek('g_big', 'dave')).toBe(true);
    expect(cache.peek('g_big', 'bob')).toBeUndefined();
    expect(storage.calls).toHaveLength(2);
  });

  it('answers bots apart from the members: a cached member list says nothing about a bot, and events keep both true', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_small', ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);
    await cache.isMember('g_small', 'alice');
    // Not in the member list, yet unknown: looked up (storage answers for bots per id).
    expect(cache.peek('g_small', 'bot:support')).toBeUndefined();
    expect(await cache.isMember('g_small', 'bot:support')).toEqual({ exists: true, member: false });
    expect(storage.calls).toHaveLength(2);
    // The bot's answer did not replace the member list.
    expect(cache.peek('g_small', 'bob')).toBe(true);
    cache.apply(change('g_small', 'added', ['bot:support', 'carol']));
    expect(cache.peek('g_small', 'bot:support')).toBe(true);
    expect(cache.peek('g_small', 'carol')).toBe(true);
    expect(cache.members('g_small')?.sort()).toEqual(['alice', 'bob', 'carol']);
    cache.apply(change('g_small', 'removed', ['bot:support']));
    expect(await cache.isMember('g_small', 'bot:support')).toEqual({ exists: true, member: false });
    expect(storage.calls).toHaveLength(2);
  });

  it('learns a bot allowed into a direct conversation from the event, whatever its pair says', async () => {
    const storage = new FakeMembership(3);
    const c = directConversationId('alice', 'bob');
    storage.set(c, ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);
    cache.primeDirect(c, ['alice', 'bob']);
    expect(await cache.isMember(c, 'bot:support')).toEqual({ exists: true, member: false });
    cache.apply(change(c, 'added', ['bot:support']));
    expect(await cache.isMember(c, 'bot:support')).toEqual({ exists: true, member: true });
    expect(cache.members(c)?.sort()).toEqual(['alice', 'bob']);
    expect(storage.calls).toHaveLength(1);
  });

  it('caches nothing from an event about a conversation it does not hold', async () => {
    const storage = new FakeMembership();
    storage.set('g_team', ['alice']);
    const cache = new MembershipCache(storage.lookup);
    cache.apply(change('g_team', 'added', ['bob']));
    expect(cache.size).toBe(0);
    expect(cache.peek('g_team', 'bob')).toBeUndefined();
  });

  it('does not cache a lookup an event for its conversation raced, but still answers it', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_team', ['alice', 'bob']);
    storage.hold = true;
    const cache = new MembershipCache(storage.lookup);

    const asked = cache.isMember('g_team', 'bob');
    // The lookup read storage before bob was removed; the event arrives while it is under way.
    const before = storage.answer('g_team', 'bob');
    storage.set('g_team', ['alice']);
    cache.apply(change('g_team', 'removed', ['bob']));
    storage.held[0]!.answer.resolve(before);
    expect(await asked).toEqual({ exists: true, member: true });
    expect(cache.peek('g_team', 'bob')).toBeUndefined();
    expect(cache.size).toBe(0);

    storage.hold = false;
    expect(await cache.isMember('g_team', 'bob')).toEqual({ exists: true, member: false });
    expect(storage.calls).toHaveLength(2);
  });

  it('caches a lookup that only events for other conversations came during', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_team', ['alice']);
    storage.hold = true;
    const cache = new MembershipCache(storage.lookup);
    const asked = cache.isMember('g_team', 'alice');
    cache.apply(change('g_other', 'added', ['bob']));
    storage.held[0]!.answer.resolve(storage.answer('g_team', 'alice'));
    await asked;
    expect(cache.peek('g_team', 'alice')).toBe(true);
  });

  it('does not hand a question asked after an event the answer of a lookup that started before it', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', ['bob']);
    storage.hold = true;
    const cache = new MembershipCache(storage.lookup);

    const early = cache.isMember('g_big', 'bob');
    storage.set('g_big', []);
    cache.apply(change('g_big', 'removed', ['bob']));
    const late = cache.isMember('g_big', 'bob');
    expect(storage.held).toHaveLength(2);
    storage.held[0]!.answer.resolve({ exists: true, member: true, memberCount: 1 });
    storage.held[1]!.answer.resolve(storage.answer('g_big', 'bob'));
    expect(await early).toEqual({ exists: true, member: true });
    expect(await late).toEqual({ exists: true, member: false });
    // The fresh lookup (no event since it started) is the one cached.
    expect(cache.peek('g_big', 'bob')).toBe(false);
  });

  it('stays conservative once it forgot which conversations changed: a raced lookup is not cached', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_team', ['alice']);
    storage.hold = true;
    const cache = new MembershipCache(storage.lookup, { maxConversations: 2 });
    const asked = cache.isMember('g_team', 'alice');
    // Events for more conversations than it remembers epochs of (g_team's own not among them).
    for (const c of ['g_a', 'g_b', 'g_c']) cache.apply(change(c, 'added', ['x']));
    storage.held[0]!.answer.resolve(storage.answer('g_team', 'alice'));
    await asked;
    expect(cache.peek('g_team', 'alice')).toBeUndefined();
    // A lookup that starts after the forgetting is cached again.
    storage.hold = false;
    await cache.isMember('g_team', 'alice');
    expect(cache.peek('g_team', 'alice')).toBe(true);
  });

  it('forgets a conversation on invalidate, and does not cache a lookup raced by it', async () => {
    const storage = new FakeMembership(3);
    storage.set('g_team', ['alice']);
    const cache = new MembershipCache(storage.lookup);
    await cache.isMember('g_team', 'alice');
    cache.invalidate('g_team');
    expect(cache.peek('g_team', 'alice')).toBeUndefined();

    storage.hold = true;
    const asked = cache.isMember('g_team', 'alice');
    cache.invalidate('g_team');
    storage.held[0]!.answer.resolve(storage.answer('g_team', 'alice'));
    await asked;
    expect(cache.size).toBe(0);
  });
});

describe('direct conversations primed from records (members proven by the id)', () => {
  const direct = directConversationId('alice', 'bob');

  it('MembershipCache answers a primed direct conversation with no lookup, and lists its members', async () => {
    const storage = new FakeMembership();
    const cache = new MembershipCache(storage.lookup);
    expect(cache.members(direct)).toBeUndefined();
    cache.primeDirect(direct, ['bob', 'alice']);
    expect(await cache.isMember(direct, 'alice')).toEqual({ exists: true, member: true });
    expect(await cache.isMember(direct, 'mallory')).toEqual({ exists: true, member: false });
    expect([...cache.members(direct)!].sort()).toEqual(['alice', 'bob']);
    expect(storage.calls).toEqual([]);
  });

  it('MembershipCache ignores a pair that is not the one the id was made of, and a group id', async () => {
    const storage = new FakeMembership();
    storage.set(direct, ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup);
    cache.primeDirect(direct, ['alice', 'mallory']);
    cache.primeDirect('g_team', ['alice', 'mallory']);
    cache.primeDirect(direct, ['alice', 'alice']);
    expect(await cache.isMember(direct, 'mallory')).toEqual({ exists: true, member: false });
    expect(storage.calls).toEqual([[direct, 'mallory']]);
    expect(cache.members('g_team')).toBeUndefined();
  });

  it('MemberListCache keeps a primed direct conversation with no load, and ignores a pair that does not match', async () => {
    const storage = new FakeLists();
    storage.lists.set(direct, ['alice', 'bob']);
    const cache = new MemberListCache(storage.load);
    cache.primeDirect(direct, ['alice', 'bob']);
    expect(sorted(await cache.get(direct))).toEqual(['alice', 'bob']);
    expect(storage.loads).toEqual([]);
    const other = directConversationId('carol', 'dave');
    storage.lists.set(other, ['carol', 'dave']);
    cache.primeDirect(other, ['carol', 'mallory']);
    expect(sorted(await cache.get(other))).toEqual(['carol', 'dave']);
    expect(storage.loads).toEqual([other]);
  });
});

describe('MembershipCache: bounds', () => {
  it('looks an answer up again once it is older than maxAgeMs', async () => {
    let now = AT;
    const storage = new FakeMembership(3);
    storage.set('g_team', ['alice']);
    const cache = new MembershipCache(storage.lookup, { maxAgeMs: 1_000, now: () => now });
    await cache.isMember('g_team', 'alice');
    now += 1_000;
    expect(cache.peek('g_team', 'alice')).toBe(true);
    await cache.isMember('g_team', 'alice');
    expect(storage.calls).toHaveLength(1);

    // A missed event: alice was removed while this instance heard nothing. The backstop corrects it.
    storage.set('g_team', []);
    now += 1;
    expect(cache.peek('g_team', 'alice')).toBeUndefined();
    expect(await cache.isMember('g_team', 'alice')).toEqual({ exists: true, member: false });
    expect(storage.calls).toHaveLength(2);
  });

  it('drops the older per-user answers of an expired large conversation when a new one comes in', async () => {
    let now = AT;
    const storage = new FakeMembership(0);
    storage.set('g_big', ['alice', 'bob']);
    const cache = new MembershipCache(storage.lookup, { maxAgeMs: 1_000, now: () => now });
    await cache.isMember('g_big', 'alice');
    now += 1_001;
    await cache.isMember('g_big', 'bob');
    expect(cache.peek('g_big', 'bob')).toBe(true);
    expect(cache.peek('g_big', 'alice')).toBeUndefined();
  });

  it('keeps at most maxConversations, the least recently used going first', async () => {
    const storage = new FakeMembership(3);
    for (const c of ['g_a', 'g_b', 'g_c']) storage.set(c, ['alice']);
    const cache = new MembershipCache(storage.lookup, { maxConversations: 2 });
    await cache.isMember('g_a', 'alice');
    await cache.isMember('g_b', 'alice');
    await cache.isMember('g_a', 'alice'); // a hit: g_a is now the most recently used
    await cache.isMember('g_c', 'alice');
    expect(cache.size).toBe(2);
    expect(cache.peek('g_a', 'alice')).toBe(true);
    expect(cache.peek('g_b', 'alice')).toBeUndefined();
    expect(cache.peek('g_c', 'alice')).toBe(true);
  });

  it('keeps at most maxUsersPerConversation answers of a large conversation, from lookups and from events', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', ['u1', 'u2', 'u3']);
    const cache = new MembershipCache(storage.lookup, { maxUsersPerConversation: 2 });
    for (const u of ['u1', 'u2', 'u3']) await cache.isMember('g_big', u);
    expect(['u1', 'u2', 'u3'].map((u) => cache.peek('g_big', u))).toEqual([undefined, true, true]);

    cache.apply(change('g_big', 'added', ['n1', 'n2', 'n3']));
    expect(['u2', 'u3', 'n1', 'n2', 'n3'].map((u) => cache.peek('g_big', u))).toEqual([undefined, undefined, undefined, true, true]);
  });
});

/** A storage of member lists, loaded whole (the loader pages); counts and can hold every load. */
class FakeLists {
  readonly loads: string[] = [];
  readonly held: { conversationId: string; ids: Deferred<string[]> }[] = [];
  hold = false;
  readonly lists = new Map<string, string[]>();

  readonly load = async (conversationId: string): Promise<string[]> => {
    this.loads.push(conversationId);
    if (this.hold) {
      const ids = deferred<string[]>();
      this.held.push({ conversationId, ids });
      return ids.promise;
    }
    return [...(this.lists.get(conversationId) ?? [])];
  };
}

const sorted = (members: ReadonlySet<string>) => [...members].sort();

describe('MemberListCache', () => {
  it('loads a conversation’s members once and answers from memory after', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice', 'bob']);
    const cache = new MemberListCache(storage.load);
    expect(sorted(await cache.get('g_team'))).toEqual(['alice', 'bob']);
    expect(sorted(await cache.get('g_team'))).toEqual(['alice', 'bob']);
    expect(storage.loads).toEqual(['g_team']);
  });

  it('shares one load among concurrent gets', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice']);
    const cache = new MemberListCache(storage.load);
    const [a, b] = await Promise.all([cache.get('g_team'), cache.get('g_team')]);
    expect(a).toBe(b);
    expect(storage.loads).toEqual(['g_team']);
  });

  it('passes a failed load on and caches nothing of it', async () => {
    let fail = true;
    const cache = new MemberListCache(async () => {
      if (fail) throw new ParleyError('UNAVAILABLE', 'storage down');
      return ['alice'];
    });
    await expect(cache.get('g_team')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    fail = false;
    expect(sorted(await cache.get('g_team'))).toEqual(['alice']);
  });

  it('caches an empty list (a conversation that is gone has nobody) like any other', async () => {
    const storage = new FakeLists();
    const cache = new MemberListCache(storage.load);
    expect(sorted(await cache.get('g_gone'))).toEqual([]);
    expect(sorted(await cache.get('g_gone'))).toEqual([]);
    expect(storage.loads).toEqual(['g_gone']);
  });

  it('never takes a bot into a member list: nothing is delivered to one', async () => {
    const storage = new FakeMembership();
    storage.set('g_team', ['alice']);
    const lists = new MemberListCache(async (c) => [...(storage.answer(c, '').memberIds ?? [])]);
    await lists.get('g_team');
    lists.apply(change('g_team', 'added', ['bot:support', 'bob']));
    expect([...(await lists.get('g_team'))].sort()).toEqual(['alice', 'bob']);
  });

  it('applies added and removed to a cached list, ignoring what it already knew', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice', 'bob']);
    const cache = new MemberListCache(storage.load, { maxMembers: 3 });
    await cache.get('g_team');
    cache.apply(change('g_team', 'added', ['carol', 'alice']));
    cache.apply(change('g_team', 'removed', ['bob', 'mallory']));
    expect(sorted(await cache.get('g_team'))).toEqual(['alice', 'carol']);
    expect(storage.loads).toEqual(['g_team']);
    // The count of held members followed the deltas: 2 held, room for one more list of 1.
    storage.lists.set('g_one', ['dave']);
    await cache.get('g_one');
    await cache.get('g_team');
    expect(storage.loads).toEqual(['g_team', 'g_one']);
  });

  it('ignores an event for a conversation it does not hold (the next get loads it)', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice', 'bob']);
    const cache = new MemberListCache(storage.load);
    cache.apply(change('g_team', 'added', ['carol']));
    expect(sorted(await cache.get('g_team'))).toEqual(['alice', 'bob']);
  });

  it('does not cache a load an event for its conversation raced, nor let a later get join it', async () => {
    const storage = new FakeLists();
    storage.hold = true;
    const cache = new MemberListCache(storage.load);

    const early = cache.get('g_team');
    cache.apply(change('g_team', 'removed', ['bob']));
    const late = cache.get('g_team');
    expect(storage.loads).toEqual(['g_team', 'g_team']);
    storage.held[0]!.ids.resolve(['alice', 'bob']); // read before the removal
    storage.held[1]!.ids.resolve(['alice']);
    expect(sorted(await early)).toEqual(['alice', 'bob']);
    expect(sorted(await late)).toEqual(['alice']);

    storage.hold = false;
    storage.lists.set('g_team', ['alice', 'zed']);
    // What is cached is the load that no event raced.
    expect(sorted(await cache.get('g_team'))).toEqual(['alice']);
    expect(storage.loads).toHaveLength(2);
  });

  it('caches a load that only events for other conversations came during', async () => {
    const storage = new FakeLists();
    storage.hold = true;
    const cache = new MemberListCache(storage.load);
    const got = cache.get('g_team');
    cache.apply(change('g_other', 'added', ['x']));
    storage.held[0]!.ids.resolve(['alice']);
    await got;
    storage.hold = false;
    await cache.get('g_team');
    expect(storage.loads).toEqual(['g_team']);
  });

  it('loads again after invalidate, and does not cache a load raced by it', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice']);
    const cache = new MemberListCache(storage.load);
    await cache.get('g_team');
    cache.invalidate('g_team');
    storage.hold = true;
    const got = cache.get('g_team');
    cache.invalidate('g_team');
    storage.held[0]!.ids.resolve(['alice']);
    await got;
    storage.hold = false;
    await cache.get('g_team');
    expect(storage.loads).toEqual(['g_team', 'g_team', 'g_team']);
  });

  it('loads a list again once it is older than maxAgeMs', async () => {
    let now = AT;
    const storage = new FakeLists();
    storage.lists.set('g_team', ['alice']);
    const cache = new MemberListCache(storage.load, { maxAgeMs: 1_000, now: () => now });
    await cache.get('g_team');
    now += 1_000;
    await cache.get('g_team');
    expect(storage.loads).toHaveLength(1);
    storage.lists.set('g_team', ['alice', 'bob']);
    now += 1;
    expect(sorted(await cache.get('g_team'))).toEqual(['alice', 'bob']);
    expect(storage.loads).toHaveLength(2);
  });

  it('holds at most maxMembers ids, forgetting the least recently used lists first, but always the newest', async () => {
    const storage = new FakeLists();
    storage.lists.set('g_a', ['a1', 'a2']);
    storage.lists.set('g_b', ['b1', 'b2']);
    storage.lists.set('g_c', ['c1', 'c2']);
    storage.lists.set('g_huge', ['h1', 'h2', 'h3', 'h4', 'h5']);
    const cache = new MemberListCache(storage.load, { maxMembers: 4 });
    await cache.get('g_a');
    await cache.get('g_b');
    await cache.get('g_a'); // a hit: g_a is now the most recently used
    await cache.get('g_c'); // 6 > 4: g_b goes
    storage.loads.length = 0;
    await cache.get('g_a');
    await cache.get('g_c');
    expect(storage.loads).toEqual([]);
    await cache.get('g_b');
    expect(storage.loads).toEqual(['g_b']);

    // A list larger than the bound on its own is kept (the others go).
    storage.loads.length = 0;
    await cache.get('g_huge');
    await cache.get('g_huge');
    expect(storage.loads).toEqual(['g_huge']);
    await cache.get('g_a');
    expect(storage.loads).toEqual(['g_huge', 'g_a']);
  });
});

describe('MembershipCache: a storm of first lookups in one large conversation', () => {
  /** Storage's member list, counted and holdable like its per-user answers. */
  function withList(storage: FakeMembership, initial: string[]) {
    let members = initial;
    const list = { calls: 0, hold: false, held: [] as Deferred<void>[] };
    const memberList = async (conversationId: string, max: number) => {
      list.calls++;
      if (list.hold) {
        const gate = deferred<void>();
        list.held.push(gate);
        await gate.promise;
      }
      const answer = storage.answer(conversationId, '');
      const ids = answer.exists ? members : [];
      return { exists: answer.exists, memberIds: ids.slice(0, max), complete: ids.length <= max };
    };
    return { list, memberList, setMembers: (ids: string[]) => (members = ids) };
  }
  const users = Array.from({ length: 200 }, (_, i) => `u${i}`);

  it('reads the member list once when enough per-user lookups of one conversation are under way, and answers the rest from it', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', users.slice(0, 150));
    const { list, memberList } = withList(storage, users.slice(0, 150));
    const cache = new MembershipCache(storage.lookup, { memberList, bulkAfterMisses: 8 });
    storage.hold = true;
    const answers = users.map((u) => cache.isMember('g_big', u));
    await Promise.resolve();
    // The first 8 asked one by one; everyone after them waits for one list read.
    expect(storage.calls).toHaveLength(8);
    expect(list.calls).toBe(1);
    for (const h of storage.held) h.answer.resolve(storage.answer(h.conversationId, h.userId));
    const got = await Promise.all(answers);
    expect(got.map((a) => a.member)).toEqual(users.map((_, i) => i < 150));
    expect(storage.calls).toHaveLength(8);
    expect(cache.bulkMembersHeld).toBe(150);
    // Cached whole: later lookups ask nothing.
    expect(await cache.isMember('g_big', 'u199')).toEqual({ exists: true, member: false });
    expect(await cache.isMember('g_big', 'u3')).toEqual({ exists: true, member: true });
    expect(storage.calls).toHaveLength(8);
    expect(list.calls).toBe(1);
  });

  it('keeps a list read whole true with membership events, and does not cache one read across an event', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_big', users.slice(0, 100));
    const { list, memberList, setMembers } = withList(storage, users.slice(0, 100));
    const cache = new MembershipCache(storage.lookup, { memberList, bulkAfterMisses: 4 });
    storage.hold = true;
    list.hold = true;
    const answers = users.slice(0, 20).map((u) => cache.isMember('g_big', u));
    await Promise.resolve();
    expect(list.calls).toBe(1);
    // An event while the list is being read: what it read may predate it, so it is not kept.
    cache.apply(change('g_big', 'removed', ['u10']));
    storage.set('g_big', users.slice(0, 100).filter((u) => u !== 'u10'));
    setMembers(users.slice(0, 100).filter((u) => u !== 'u10'));
    // Those who waited for the list ask one by one instead: answered at once from here on.
    storage.hold = false;
    list.hold = false;
    list.held[0]!.resolve();
    for (const h of storage.held.splice(0)) h.answer.resolve(storage.answer(h.conversationId, h.userId));
    expect((await Promise.all(answers)).map((a) => a.member)).toEqual(users.slice(0, 20).map((u) => u !== 'u10'));
    expect(cache.bulkMembersHeld).toBe(0);
    expect(await cache.isMember('g_big', 'u10')).toEqual({ exists: true, member: false });
    // A later storm reads it whole; events then change the cached list in place.
    storage.calls.length = 0;
    storage.hold = true;
    const more = users.slice(100, 120).map((u) => cache.isMember('g_big', u));
    await Promise.resolve();
    for (const h of storage.held.splice(0)) h.answer.resolve(storage.answer(h.conversationId, h.userId));
    await Promise.all(more);
    expect(cache.bulkMembersHeld).toBe(99);
    cache.apply(change('g_big', 'added', ['late']));
    cache.apply(change('g_big', 'removed', ['u0']));
    expect(cache.peek('g_big', 'late')).toBe(true);
    expect(cache.peek('g_big', 'u0')).toBe(false);
    expect(cache.bulkMembersHeld).toBe(99);
  });

  it('falls back to per-user answers when the list is longer than it will hold', async () => {
    const storage = new FakeMembership(0);
    storage.set('g_huge', users);
    const { list, memberList } = withList(storage, users);
    const cache = new MembershipCache(storage.lookup, { memberList, bulkAfterMisses: 4, bulkMaxMembers: 50 });
    storage.hold = true;
    const answers = users.slice(0, 30).map((u) => cache.isMember('g_huge', u));
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    for (let round = 0; round < 5; round++) {
      for (const h of storage.held.splice(0)) h.answer.resolve(storage.answer(h.conversationId, h.userId));
      await new Promise((r) => setImmediate(r));
    }
    expect((await Promise.all(answers)).every((a) => a.member)).toBe(true);
    expect(list.calls).toBeGreaterThanOrEqual(1);
    expect(cache.bulkMembersHeld).toBe(0);
    expect(storage.calls.length).toBe(30);
  });

  it('bounds the member ids it holds over all conversations read whole', async () => {
    const storage = new FakeMembership(0);
    const { memberList } = withList(storage, users.slice(0, 60));
    const cache = new MembershipCache(storage.lookup, { memberList, bulkAfterMisses: 2, bulkMaxHeld: 100 });
    for (const c of ['g_a', 'g_b', 'g_c']) {
      storage.set(c, users.slice(0, 60));
      storage.hold = true;
      const answers = users.slice(0, 6).map((u) => cache.isMember(c, u));
      await Promise.resolve();
      for (const h of storage.held.splice(0)) h.answer.resolve(storage.answer(h.conversationId, h.userId));
      await Promise.all(answers);
      expect(cache.bulkMembersHeld).toBeLessThanOrEqual(100);
    }
    expect(cache.bulkMembersHeld).toBe(60);
  });
});
