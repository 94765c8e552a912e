// Consumer-group lag (records not yet committed by a group on a topic), read with the Kafka
// admin API: the lag scenario's series, the preload's "storage has consumed it all" and the
// settling between ladder steps.
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { sleep } from './harness';

export interface GroupTopic {
  groupId: string;
  topic: string;
}

export class LagReader {
  private readonly admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(brokers: string[]) {
    this.admin = new Kafka({ clientId: 'bench-lag', brokers, logLevel: logLevel.NOTHING }).admin();
  }

  /** Records the group has not committed yet (a group that never committed counts from the start). */
  async lag(g: GroupTopic): Promise<number> {
    this.connected ??= this.admin.connect();
    await this.connected;
    const [high, committed] = await Promise.all([this.admin.fetchTopicOffsets(g.topic), this.admin.fetchOffsets({ groupId: g.groupId, topics: [g.topic] })]);
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
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
  }
}
