// A rate limit shared by every instance that never makes a take wait on the store. Each
// instance admits from its own copy of each key's bucket (a mirror); every flushMs it sends the
// store, in one round trip, what it admitted per key since the last flush (at most
// maxKeysPerFlush keys; the rest go next time), and takes the store's answer, which counts every
// other instance's admissions too, as the key's new mirror. A bucket in debt (below zero: the
// instances together admitted more than it held) refuses everyone until the refill repays it,
// so over-admission is a short overshoot, not a higher rate.
// - A key this instance has not heard about from the store yet starts with burst / peers, where
//   peers is the most instances any of the store's recent answers counted on one key (before the
//   first answer: firstContactTokens). N routers seeing a new sender at once (connectors spread
//   each user's sends over every router) admit about one burst between them, not N.
// - The store unreachable: each mirror goes on as a plain local bucket (the limit per instance,
//   as with RATE_LIMIT_STORE=memory), unseen keys get a full burst; never refuse everything,
//   never wait. One log line per change of state, a gauge, and a counter of failed flushes.
// - Memory: a mirror full again and with nothing to send is forgotten; at most maxKeys are held.
// docs/ARCHITECTURE.md states the bound on over-admission.
import { Counter, Gauge, registry, type Logger } from '@parley/core';
import { randomUUID } from 'node:crypto';
import type { Admission, BucketLimit, BucketState, BucketStore, RateLimiter, Taker } from './port';

export const rateLimitStoreUp = new Gauge({
  name: 'parley_rate_limit_store_up',
  help: '1 while a shared rate limiter reaches its store; 0 while it limits per instance (the store unreachable).',
  labelNames: ['limiter'] as const,
  registers: [registry],
});

export const rateLimitStoreFailures = new Counter({
  name: 'parley_rate_limit_store_failures_total',
  help: 'Flushes of a shared rate limiter to its store that failed (limits were per instance meanwhile).',
  labelNames: ['limiter'] as const,
  registers: [registry],
});

export const rateLimitFlushes = new Counter({
  name: 'parley_rate_limit_flushes_total',
  help: 'Round trips of a shared rate limiter to its store (one per flush, whatever the number of keys), and the keys they carried.',
  labelNames: ['limiter', 'what'] as const,
  registers: [registry],
});

export const rateLimited = new Counter({
  name: 'parley_rate_limited_total',
  help: 'Actions refused by a rate limiter (RESOURCE_EXHAUSTED with retryAfterMs), by limiter.',
  labelNames: ['limiter'] as const,
  registers: [registry],
});

export interface SharedRateLimiterOptions {
  /** What is limited (send, signal): a label, and the namespace of its keys in the store. */
  name: string;
  limit: BucketLimit;
  /** How often admissions go to the store (default 50 ms). */
  flushMs?: number;
  /** Keys per flush at most (default 2,000); the others wait for the next flush. */
  maxKeysPerFlush?: number;
  /** Tokens a key unseen by this instance starts with before the store ever answered (default burst / 4, at least 1). */
  firstContactTokens?: number;
  /** Mirrors held at most (default 200,000); past it the oldest is forgotten. */
  maxKeys?: number;
  now?: () => number;
  log?: Logger;
  /** This instance, as the store counts takers (default a random id). */
  instanceId?: string;
  /** false: no timer, the caller calls flush() (tests). */
  autoFlush?: boolean;
}

interface Mirror {
  tokens: number;
  at: number;
  /** Admitted here and not yet sent to the store. */
  pending: number;
  /** Sent to the store, answer awaited. */
  inFlight: number;
  /** The store has answered for this key at least once. */
  known: boolean;
}

type StoreState = 'up' | 'down';

/** How long the largest count of instances on one key is believed, unless a larger one comes. */
const PEERS_KEPT_MS = 60_000;

export class SharedRateLimiter implements RateLimiter {
  private readonly mirrors = new Map<string, Mirror>();
  private readonly dirty = new Set<string>();
  private readonly limit: BucketLimit;
  private readonly name: string;
  private readonly flushMs: number;
  private readonly maxKeysPerFlush: number;
  private readonly firstContactTokens: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private readonly log: Logger | undefined;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly taker: Taker;
  private state: StoreState = 'up';
  /** Most instances one recent answer counted on a key (0: no answer yet); kept a minute, then the latest. */
  private peers = { count: 0, at: 0 };
  private flushing: Promise<void> | undefined;
  private sweptAt: number;

  constructor(
    private readonly store: BucketStore,
    options: SharedRateLimiterOptions,
  ) {
    this.name = options.name;
    this.limit = options.limit;
    this.flushMs = options.flushMs ?? 50;
    this.maxKeysPerFlush = options.maxKeysPerFlush ?? 2_000;
    this.firstContactTokens = Math.min(options.limit.burst, Math.max(1, options.firstContactTokens ?? Math.floor(options.limit.burst / 4)));
    this.maxKeys = options.maxKeys ?? 200_000;
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.sweptAt = this.now();
    // An instance that flushed none of a key's takes for 20 periods no longer shares its bucket.
    this.taker = { instanceId: options.instanceId ?? randomUUID(), activeMs: Math.max(1_000, 20 * this.flushMs) };
    rateLimitStoreUp.set({ limiter: this.name }, 1);
    if (options.autoFlush !== false) {
      this.timer = setInterval(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Whether the store answered the last flush (down: limits are per instance). */
  get storeState(): StoreState {
    return this.state;
  }

  take(key: string): Admission {
    const now = this.now();
    let mirror = this.mirrors.get(key);
    if (mirror) {
      // A wall clock that steps back (NTP) must not take tokens away.
      mirror.tokens = Math.min(this.limit.burst, mirror.tokens + (Math.max(0, now - mirror.at) / 1000) * this.limit.ratePerSec);
      mirror.at = Math.max(mirror.at, now);
    } else {
      mirror = { tokens: this.state === 'up' ? this.firstContact() : this.limit.burst, at: now, pending: 0, inFlight: 0, known: false };
      this.remember(key, mirror);
    }
    if (mirror.tokens >= 1) {
      mirror.tokens -= 1;
      mirror.pending += 1;
      this.dirty.add(key);
      return { ok: true };
    }
    rateLimited.inc({ limiter: this.name });
    const refill = Math.ceil(((1 - mirror.tokens) / this.limit.ratePerSec) * 1000);
    // A key out of its first-contact tokens may well have more in the store: the next answer says.
    const retryAfterMs = mirror.known || this.state === 'down' ? refill : Math.min(refill, 2 * this.flushMs);
    return { ok: false, retryAfterMs: Math.max(1, retryAfterMs) };
  }

  /** What a key unseen here may take before the store's answer: its share of a burst. */
  private firstContact(): number {
    if (this.peers.count === 0) return this.firstContactTokens;
    return Math.max(1, Math.floor(this.limit.burst / this.peers.count));
  }

  /** Sends what was admitted since the last flush; one flush at a time; never rejects. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.sweep();
    if (this.dirty.size === 0) return Promise.resolve();
    this.flushing = this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  private async flushOnce(): Promise<void> {
    const batch: { key: string; n: number; mirror: Mirror }[] = [];
    for (const key of this.dirty) {
      if (batch.length >= this.maxKeysPerFlush) break;
      this.dirty.delete(key);
      const mirror = this.mirrors.get(key);
      if (!mirror || mirror.pending === 0) continue;
      batch.push({ key, n: mirror.pending, mirror });
      mirror.inFlight += mirror.pending;
      mirror.pending = 0;
    }
    if (batch.length === 0) return;
    let states: BucketState[];
    rateLimitFlushes.inc({ limiter: this.name, what: 'trips' });
    rateLimitFlushes.inc({ limiter: this.name, what: 'keys' }, batch.length);
    try {
      states = await this.store.take(
        batch.map((b) => ({ key: `${this.name}:${b.key}`, n: b.n })),
        this.limit,
        this.taker,
      );
      if (states.length !== batch.length) throw new Error(`the store answered ${states.length} buckets for ${batch.length}`);
    } catch (err) {
      // These admissions are not counted anywhere but here; the mirrors already hold them.
      for (const b of batch) b.mirror.inFlight -= b.n;
      this.setState('down', err);
      return;
    }
    this.setState('up');
    const now = this.now();
    batch.forEach((b, i) => {
      b.mirror.inFlight -= b.n;
      const state = states[i];
      if (!state || !Number.isFinite(state.tokens) || !(state.instances >= 1)) return;
      // The store's answer counts this batch and every other instance's; what was admitted
      // here since the batch left is not in it yet. Of what is left, this instance takes its
      // share: instances admitting for one key at once do not each spend all of it.
      b.mirror.tokens = Math.min(this.limit.burst, state.tokens) / state.instances - b.mirror.pending;
      b.mirror.at = Math.max(b.mirror.at, now);
      b.mirror.known = true;
      if (state.instances >= this.peers.count || now - this.peers.at > PEERS_KEPT_MS) this.peers = { count: state.instances, at: now };
    });
  }

  private setState(state: StoreState, err?: unknown): void {
    if (state === 'down') rateLimitStoreFailures.inc({ limiter: this.name });
    if (state === this.state) return;
    this.state = state;
    rateLimitStoreUp.set({ limiter: this.name }, state === 'up' ? 1 : 0);
    // Keys never heard of from the store were given first-contact tokens only: local limits
    // give them a whole burst, as keys seen for the first time from now on get.
    if (state === 'down') {
      const more = this.limit.burst - this.firstContact();
      for (const mirror of this.mirrors.values()) if (!mirror.known) mirror.tokens += more;
    }
    if (state === 'down') this.log?.warn({ err, limiter: this.name }, 'rate-limit store unreachable: limiting per instance until it answers');
    else this.log?.info({ limiter: this.name }, 'rate-limit store answers again: limits are shared');
  }

  private remember(key: string, mirror: Mirror): void {
    if (this.mirrors.size >= this.maxKeys) {
      const oldest = this.mirrors.keys().next();
      if (!oldest.done) {
        this.mirrors.delete(oldest.value);
        this.dirty.delete(oldest.value);
      }
    }
    this.mirrors.set(key, mirror);
  }

  /** Forgets mirrors full again with nothing to send, at most once per refill time. */
  private sweep(): void {
    const now = this.now();
    const refillMs = Math.max(1_000, (this.limit.burst / this.limit.ratePerSec) * 1000);
    if (now - this.sweptAt < refillMs) return;
    this.sweptAt = now;
    for (const [key, mirror] of this.mirrors) {
      if (mirror.pending > 0 || mirror.inFlight > 0) continue;
      if (mirror.tokens + (Math.max(0, now - mirror.at) / 1000) * this.limit.ratePerSec >= this.limit.burst) this.mirrors.delete(key);
    }
  }

  /** Mirrors held (tests). */
  get size(): number {
    return this.mirrors.size;
  }
}
