// The Storage gRPC calls the bench makes as a product backend would (proto/parley/v1/storage.proto):
// conversation administration, and GetConversation to check what a preload stored. One typed
// method per call, over the platform's channel; and a pool of concurrent callers.
import { callUnary } from '@parley/core';
import type { Platform } from '../../test/e2e/support/platform';

const DEADLINE_MS = 10_000;

export class StorageApi {
  constructor(private readonly platform: Platform) {}

  async createDirect(userA: string, userB: string): Promise<string> {
    const c = this.platform.storage();
    const r = await callUnary<{ conversationId: string }>('Storage.CreateDirect', DEADLINE_MS, (md, opts, cb) => c.createDirect({ userA, userB }, md, opts, cb));
    return r.conversationId;
  }

  async createGroup(memberIds: string[]): Promise<string> {
    const c = this.platform.storage();
    const r = await callUnary<{ conversationId: string }>('Storage.CreateGroup', DEADLINE_MS, (md, opts, cb) => c.createGroup({ memberIds }, md, opts, cb));
    return r.conversationId;
  }

  async removeMembers(conversationId: string, userIds: string[]): Promise<void> {
    const c = this.platform.storage();
    await callUnary('Storage.RemoveMembers', DEADLINE_MS, (md, opts, cb) => c.removeMembers({ conversationId, userIds }, md, opts, cb));
  }

  async lastSeq(conversationId: string): Promise<number> {
    const c = this.platform.storage();
    const r = await callUnary<{ lastSeq: number | string }>('Storage.GetConversation', DEADLINE_MS, (md, opts, cb) => c.getConversation({ conversationId }, md, opts, cb));
    return Number(r.lastSeq);
  }
}

/** Runs fn over items with `concurrency` callers at once; answers the results in order. Throws the first error after all settle. */
export async function withCallers<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let firstError: unknown;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        try {
          out[i] = await fn(items[i]!, i);
        } catch (err) {
          firstError ??= err;
        }
      }
    }),
  );
  if (firstError !== undefined) throw firstError;
  return out;
}

/** Direct conversations through CreateDirect, `concurrency` callers at once, retrying a transient failure a few times. */
export async function createDirects(api: StorageApi, pairs: readonly [string, string][], concurrency = 20): Promise<string[]> {
  return withCallers(pairs, concurrency, async ([a, b]) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await api.createDirect(a, b);
      } catch (err) {
        if (attempt >= 5 || (err as { retryable?: boolean }).retryable !== true) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  });
}
