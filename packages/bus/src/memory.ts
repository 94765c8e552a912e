// In-memory message bus, for unit tests only. Same contract as the Kafka adapter:
// keyed partitions, in-order batches per partition, commit after the handler.
import { ParleyError } from '@parley/core';
import type { ConsumedBatch, ConsumedRecord, MessageBus, OutgoingRecord, SubscribeOptions, Subscription } from './port';

interface Member {
  id: number;
  options: SubscribeOptions;
  assigned: Set<number>;
  stopping: boolean;
  running: Map<number, Promise<void>>;
  /** Where this member reads: the group's committed offsets, or its own cursors (commitOffsets false). */
  offsets: Map<string, number>;
}

interface Group {
  committed: Map<string, number>; // `${topic}/${partition}` -> next offset
  members: Member[];
}

export function partitionFor(key: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < key.length; i++) hash = (Math.imul(hash, 31) + key.charCodeAt(i)) | 0;
  return Math.abs(hash) % partitions;
}

export class MemoryBus implements MessageBus {
  private readonly topics = new Map<string, ConsumedRecord[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly waiters = new Set<() => void>();
  private nextMemberId = 1;
  private closed = false;

  constructor(private readonly defaultPartitions = 4) {}

  createTopic(topic: string, partitions = this.defaultPartitions): void {
    if (!this.topics.has(topic)) this.topics.set(topic, Array.from({ length: partitions }, () => []));
  }

  async publish(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new ParleyError('UNAVAILABLE', 'bus closed');
    // Like Parley's Kafka (auto-creation off): a topic must be created before use.
    const partitions = this.topics.get(topic);
    if (!partitions) throw new ParleyError('UNAVAILABLE', `topic ${topic} does not exist`);
    for (const record of records) {
      const partition = partitionFor(record.key, partitions.length);
      const log = partitions[partition]!;
      log.push({
        topic,
        partition,
        offset: String(log.length),
        key: record.key,
        value: Buffer.isBuffer(record.value) ? record.value : Buffer.from(record.value),
        headers: { ...(record.headers ?? {}) },
      });
    }
    this.wake();
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.createTopic(options.topic);
    const group: Group = this.groups.get(options.groupId) ?? { committed: new Map(), members: [] };
    this.groups.set(options.groupId, group);
    // A member of a group that keeps no offsets reads with cursors of its own, forgotten when it stops.
    const offsets = options.commitOffsets === false ? new Map<string, number>() : group.committed;
    if (options.fromBeginning === false) {
      // A new group starts at the end of each partition.
      this.topics.get(options.topic)!.forEach((log, partition) => {
        const key = `${options.topic}/${partition}`;
        if (!offsets.has(key)) offsets.set(key, log.length);
      });
    }
    const member: Member = { id: this.nextMemberId++, options, assigned: new Set(), stopping: false, running: new Map(), offsets };
    group.members.push(member);
    this.rebalance(group, options.topic);
    return {
      stop: async () => {
        member.stopping = true;
        this.wake();
        await Promise.all(member.running.values());
        group.members = group.members.filter((m) => m !== member);
        this.rebalance(group, options.topic);
      },
    };
  }

  healthy(): boolean {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const group of this.groups.values()) for (const member of group.members) member.stopping = true;
    this.wake();
    await Promise.all([...this.groups.values()].flatMap((g) => g.members.flatMap((m) => [...m.running.values()])));
  }

  private rebalance(group: Group, topic: string): void {
    const partitions = this.topics.get(topic)!.length;
    const live = group.members.filter((m) => !m.stopping);
    for (const member of live) member.assigned = new Set();
    for (let p = 0; p < partitions; p++) live[p % Math.max(live.length, 1)]?.assigned.add(p);
    for (const member of live) {
      for (const partition of member.assigned) {
        if (!member.running.has(partition)) {
          const loop = this.runPartition(member, partition).finally(() => member.running.delete(partition));
          member.running.set(partition, loop);
        }
      }
    }
    // Loops whose partition moved away are parked waiting for records: let them see it.
    this.wake();
  }

  private async runPartition(member: Member, partition: number): Promise<void> {
    const { topic, handler, onHandlerError } = member.options;
    const key = `${topic}/${partition}`;
    const active = () => !member.stopping && !this.closed && member.assigned.has(partition);
    while (active()) {
      const log = this.topics.get(topic)![partition]!;
      const from = member.offsets.get(key) ?? 0;
      if (from >= log.length) {
        await new Promise<void>((resolve) => {
          this.waiters.add(resolve);
        });
        continue;
      }
      const records = log.slice(from, from + 100);
      const batch: ConsumedBatch = { topic, partition, records, isActive: active };
      try {
        await handler(batch);
        member.offsets.set(key, from + records.length);
      } catch (err) {
        onHandlerError?.(err, batch);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }
}
