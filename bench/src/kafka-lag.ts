// Consumer-group lag (records not yet committed by a group on a topic), read with the Kafka
// admin API: the lag scenario's series, the preload's "storage has consumed it all" and the
// settling between ladder steps.
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { log, sleep } from './harness';

export interface GroupTopic {
  groupId: string;
  topic: string;
}

export class LagReader {
  private admin: Admin | undefined;
  private connected: Promise<Admin> | undefined;
  private lastError = '';

  constructor(private readonly brokers: string[]) {}

  /**
   * The admin client, connected. A failed connect or call drops it, so that the next read
   * starts a new one: a rejected connect kept for good made every later read fail (every
   * later settle "Infinity records behind", the lag scenario's whole series -1).
   */
  private client(): Promise<Admin> {
    this.connected ??= (async () => {
      const admin = new Kafka({ clientId: 'bench-lag', brokers: this.brokers, logLevel: logLevel.NOTHING }).admin();
      this.admin = admin;
      await admin.connect();
      return admin;
    })();
    return this.connected;
  }

  private drop(err: unknown): never {
    const message = err instanceof Error ? err.message : String(err);
    // Said once per distinct error, not once per poll.
    if (message !== this.lastError) log(`lag reader: ${message}; reconnecting`);
    this.lastError = message;
    const admin = this.admin;
    this.admin = undefined;
    this.connected = undefined;
    void admin?.disconnect().catch(() => undefined);
    throw err;
  }

  /** Records the group has not committed yet (a group that never committed counts from the start). */
  async lag(g: GroupTopic): Promise<number> {
    const [high, committed] = await this.client()
      .then((admin) => Promise.all([admin.fetchTopicOffsets(g.topic), admin.fetchOffsets({ groupId: g.groupId, topics: [g.topic] })]))
      .catch((err: unknown) => this.drop(err));
    const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    return high.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(Number(p.low), done.get(p.partition) ?? 0)), 0);
  }

  async total(groups: GroupTopic[]): Promise<number> {
    let sum = 0;
    for (const g of groups) sum += await this.lag(g);
    return sum;
  }

  /** Waits until every group's lag is at most `slack`; answers the lag left when the bound passed first. */
  async waitFor(groups: GroupTopic[], timeoutMs: number, slack = 0, onProgress?: (lag: number) => void): Promise<number> {
    const until = Date.now() + timeoutMs;
    let lag = Number.POSITIVE_INFINITY;
    let lastReport = 0;
    while (Date.now() < until) {
      lag = await this.total(groups).catch(() => Number.POSITIVE_INFINITY);
      if (lag <= slack) return lag;
      if (onProgress && Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        onProgress(lag);
      }
      await sleep(500);
    }
    return lag;
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connected = undefined;
    if (admin) await admin.disconnect().catch(() => undefined);
  }
}
