// Owns group commit of message appends: the appends of every partition this process holds
// are merged into as few database writes as possible. FerretDB v1 serialises writes behind
// one lock, so what it can take is set by the number of write commands, not by their size
// (inserts of 100 documents at 23,000 documents/s; of 1 or 2, a few hundred commands/s in
// all). With one append per partition per Kafka batch, a process holding 16 partitions sent
// about two messages per insert at 500 msg/s and the inserts queued behind the lock.
//
// While one combined append is in flight, the appends that arrive wait and go together in
// the next one (nothing waits when the database is idle). Each caller still sees the
// contract of MessageLog.append for its own messages: the prefix that went in, and the
// conflict that stopped it. The combined append is ordered, so it stops at the first
// conflict: what came after it belongs to other callers (or to the same caller past its
// conflict); the other callers' messages go first in the next round. An error of the
// database fails the callers of that round; when there were several, each is tried again
// alone first, so a document only one of them sent (one the database can never hold) fails
// only that caller's batch.
import type { AppendConflict, LoggedMessage, MessageLog, StoredMessageDoc } from './port';

type AppendResult = { inserted: number; conflict?: AppendConflict };

interface Job {
  docs: readonly LoggedMessage[];
  /** How many of docs went in during earlier rounds. */
  done: number;
  /** Run in a round of its own (after an error of a combined round). */
  solo: boolean;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export class CombinedMessageLog implements MessageLog {
  private queue: Job[] = [];
  private running = false;
  /** Combined appends sent, and the messages in them (for the metric of messages per write). */
  rounds = 0;

  constructor(
    private readonly inner: MessageLog,
    /** Most messages one combined append carries (a caller's own messages are never split). */
    private readonly maxMessages = 1_000,
  ) {}

  append(messages: readonly LoggedMessage[]): Promise<AppendResult> {
    if (messages.length === 0) return Promise.resolve({ inserted: 0 });
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ docs: messages, done: 0, solo: false, resolve, reject });
      if (!this.running) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.round(this.take());
    } finally {
      this.running = false;
    }
  }

  /** The next round: a solo job alone, or as many waiting jobs as fit (at least one). */
  private take(): Job[] {
    const first = this.queue.shift()!;
    const round = [first];
    if (first.solo) return round;
    let size = first.docs.length - first.done;
    while (this.queue.length > 0 && !this.queue[0]!.solo && size + this.queue[0]!.docs.length - this.queue[0]!.done <= this.maxMessages) {
      const job = this.queue.shift()!;
      size += job.docs.length - job.done;
      round.push(job);
    }
    return round;
  }

  private async round(round: Job[]): Promise<void> {
    let result: AppendResult;
    this.rounds++;
    try {
      result = await this.inner.append(round.flatMap((j) => j.docs.slice(j.done)));
    } catch (err) {
      if (round.length === 1) round[0]!.reject(err);
      else this.queue.unshift(...round.map((j) => ({ ...j, solo: true })));
      return;
    }
    const again: Job[] = [];
    let start = 0;
    for (const job of round) {
      const length = job.docs.length - job.done;
      if (result.inserted >= start + length) {
        job.done += length;
        job.resolve({ inserted: job.done });
      } else if (result.inserted >= start && result.conflict) {
        // The append stopped inside this job's messages: its prefix went in, the next one conflicted.
        job.done += result.inserted - start;
        job.resolve({ inserted: job.done, conflict: { ...result.conflict, index: job.done } });
      } else {
        // Not reached (the append stopped before it): first in the next round.
        job.done += Math.max(0, result.inserted - start);
        again.push(job);
      }
      start += length;
    }
    this.queue.unshift(...again);
  }

  find(serverMsgId: string): Promise<LoggedMessage | undefined> {
    return this.inner.find(serverMsgId);
  }

  range(conversationId: string, fromSeq: number, toSeq: number): Promise<StoredMessageDoc[]> {
    return this.inner.range(conversationId, fromSeq, toSeq);
  }

  lastSeq(conversationId: string): Promise<number> {
    return this.inner.lastSeq(conversationId);
  }

  noteStored(heads: ReadonlyMap<string, number>): Promise<void> {
    return this.inner.noteStored(heads);
  }
}
