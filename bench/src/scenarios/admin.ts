// Conversation administration: creating direct conversations with adminCallers concurrent
// callers through Storage.CreateDirect, against a same-run baseline of as many callers
// inserting the same documents (store-docs.ts) straight into a database of their own on the
// same MongoDB-wire server; with few conversations stored, and again with adminStored more
// bulk-inserted into both databases.
import { performance } from 'node:perf_hooks';
import { MongoClient, type Db } from 'mongodb';
import { directConversationId } from '@parley/core';
import { log, onCleanUp } from '../harness';
import type { Context } from '../measure';
import { round } from '../procstats';
import { StorageApi, withCallers } from '../storage-api';
import { bulkInsertConversations, conversationDocs, ensureStoreIndexes, insertConversation } from '../store-docs';

export interface CreationRun {
  created: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
}

export interface AdminPhase {
  /** Conversations already stored in each database when the phase began. */
  stored: number;
  parley: CreationRun;
  baseline: CreationRun;
}

export interface AdminResult {
  callers: number;
  creations: number;
  few: AdminPhase;
  loaded: AdminPhase;
  preload: { conversations: number; seconds: number; perSecond: number };
  /** Conversations in the baseline's database at the end (its count is exact: created + preloaded). */
  baselineConversations: number;
}

async function timed(pairs: [string, string][], callers: number, create: (a: string, b: string) => Promise<unknown>): Promise<CreationRun> {
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await withCallers(pairs, callers, async ([a, b]) => {
    try {
      await create(a, b);
    } catch (err) {
      errors++;
      firstError ??= String((err as Error).message ?? err);
    }
  });
  const seconds = (performance.now() - started) / 1000;
  const created = pairs.length - errors;
  return { created, errors, ...(firstError ? { firstError } : {}), seconds: round(seconds, 2), perSecond: round(created / Math.max(seconds, 1e-3), 1) };
}

async function phase(ctx: Context, db: Db, stored: number, label: string): Promise<AdminPhase> {
  const { adminCreations: n, adminCallers: callers } = ctx.settings;
  const api = new StorageApi(ctx.platform);
  const pairs = (side: string): [string, string][] => Array.from({ length: n }, (_, k) => [`${label}${side}${k}a`, `${label}${side}${k}b`]);
  log(`admin (${stored} stored): ${n} CreateDirect calls, ${callers} callers`);
  const parley = await timed(pairs('p'), callers, (a, b) => api.createDirect(a, b));
  log(`admin (${stored} stored): Parley ${parley.perSecond}/s (${parley.errors} errors); baseline next`);
  const baseline = await timed(pairs('b'), callers, (a, b) => insertConversation(db, conversationDocs(directConversationId(a, b), 'direct', [a, b])));
  log(`admin (${stored} stored): baseline ${baseline.perSecond}/s (${baseline.errors} errors)`);
  return { stored, parley, baseline };
}

/** Bulk inserts of `count` direct conversations into a database, in chunks, a few writers at once. */
async function preloadConversations(db: Db, count: number, tag: string): Promise<void> {
  const chunk = 1_000;
  const chunks = Array.from({ length: Math.ceil(count / chunk) }, (_, i) => i);
  await withCallers(chunks, 4, async (c) => {
    const list = [];
    for (let k = c * chunk; k < Math.min(count, (c + 1) * chunk); k++) {
      const [a, b] = [`pre${k}a-${tag}`, `pre${k}b-${tag}`];
      list.push(conversationDocs(directConversationId(a, b), 'direct', [a, b]));
    }
    await bulkInsertConversations(db, list);
  });
}

export async function admin(ctx: Context): Promise<AdminResult> {
  const tag = Math.random().toString(36).slice(2, 7);
  const mongo = await MongoClient.connect(ctx.infra.env.MONGO_URL, { maxPoolSize: 50 });
  const baselineName = `${ctx.platform.namespace}adm`;
  const db = mongo.db(baselineName);
  onCleanUp(async () => {
    const m = await MongoClient.connect(ctx.infra.env.MONGO_URL);
    await m.db(baselineName).dropDatabase().finally(() => m.close());
  });
  try {
    await ensureStoreIndexes(db);
    const few = await phase(ctx, db, 0, `a1${tag}`);
    const count = ctx.settings.adminStored;
    log(`admin: bulk-inserting ${count} conversations into Parley's database and into the baseline's`);
    const started = performance.now();
    await preloadConversations(mongo.db(ctx.platform.namespace), count, `${tag}p`);
    await preloadConversations(db, count, `${tag}b`);
    const seconds = (performance.now() - started) / 1000;
    log(`admin: ${2 * count} conversations inserted in ${round(seconds, 1)} s`);
    const loaded = await phase(ctx, db, count + ctx.settings.adminCreations, `a2${tag}`);
    const baselineConversations = await db.collection('conversations').countDocuments();
    return {
      callers: ctx.settings.adminCallers,
      creations: ctx.settings.adminCreations,
      few,
      loaded,
      preload: { conversations: count, seconds: round(seconds, 1), perSecond: round((2 * count) / Math.max(seconds, 1e-3), 0) },
      baselineConversations,
    };
  } finally {
    await mongo.db(baselineName).dropDatabase().catch(() => undefined);
    await mongo.close();
  }
}
