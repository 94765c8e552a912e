// The failure suite's clients and bookkeeping: SDK clients (one per device) on 1:1 and
// group conversations, a steady, bounded send rate, and the checks that decide a
// scenario: everything acked is stored once, in a gap-free order, and reaches every
// member's devices once, in that order.
import { randomUUID } from 'node:crypto';
import { callUnary } from '@parley/core';
import type { MessagesResponse__Output } from '@parley/proto';
import { ParleyClient, type ParleyMessage } from '@parley/sdk';
import { sleep, type Platform } from '../../e2e/support/platform';

export interface Device {
  userId: string;
  deviceId: string;
  client: ParleyClient;
  /** conversationId -> messages in the order the SDK emitted them. */
  received: Map<string, ParleyMessage[]>;
}

interface Conversation {
  id: string;
  members: string[];
}

interface SendRecord {
  clientMsgId: string;
  conversationId: string;
  senderId: string;
  scenario: string;
  acked?: string;
  failed?: string;
}

export interface ScenarioRow {
  scenario: string;
  sent: number;
  acked: number;
  stored: number;
  /** Acked messages that every member device holds. */
  delivered: number;
  lostAcked: number;
  /** Sent, never acked, never stored (allowed, reported). */
  lostUnacked: number;
  duplicated: number;
  reordered: number;
  convergeSeconds: number;
  converged: boolean;
  /** Sends the SDK gave up on, by error code. */
  refused: Record<string, number>;
  /** Records in the dead-letter topic after the scenario (a transient fault parked would be an acked message lost). */
  parked?: number;
}

export interface WorkloadSpec {
  directPairs: number;
  groups: number;
  groupSize: number;
  /** Users who also have a second device. */
  secondDevices: number;
  catchUpIntervalMs: number;
  /** Every client gets this URL list, in this order (default: the platform's connectors, each client starting at another). */
  urls?: readonly string[];
  /** Users in no conversation, one client each: they only connect (and move when their connector drains). */
  idleClients?: number;
  /** Clients connect at random moments over this many ms (default 0: all at once). */
  connectSpreadMs?: number;
  /** The clients' reconnect and retry backoff ceiling (default 2 000 ms: fast recovery for a few dozen clients). */
  backoffMaxMs?: number;
}


export class Workload {
  readonly devices: Device[] = [];
  readonly conversations: Conversation[] = [];
  private readonly sends: SendRecord[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly run = randomUUID().slice(0, 8);
  private readonly connectTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly platform: Platform,
    private readonly spec: WorkloadSpec,
  ) {}

  private user(i: number): string {
    return `u${i}-${this.run}`;
  }

  async start(): Promise<void> {
    let next = 0;
    const users: string[] = [];
    for (let p = 0; p < this.spec.directPairs; p++) {
      const [a, b] = [this.user(next++), this.user(next++)];
      users.push(a, b);
      this.conversations.push({ id: await this.platform.createDirect(a, b), members: [a, b] });
    }
    for (let g = 0; g < this.spec.groups; g++) {
      // Groups mix users from the pairs with users of their own.
      const members = [users[g % users.length]!, ...Array.from({ length: this.spec.groupSize - 1 }, () => this.user(next++))];
      for (const m of members) if (!users.includes(m)) users.push(m);
      this.conversations.push({ id: await this.platform.createGroup(members), members });
    }
    for (let i = 0; i < (this.spec.idleClients ?? 0); i++) users.push(this.user(next++));
    const urls = [...(this.spec.urls ?? this.platform.wsPorts.map((_, i) => this.platform.wsUrlOf(i)))];
    users.forEach((userId, i) => {
      this.addDevice(userId, 'phone', i, urls);
      if (i < this.spec.secondDevices) this.addDevice(userId, 'laptop', i + 1, urls);
    });
    await this.waitFor(() => this.devices.every((d) => d.client.state === 'open'), 60_000 + (this.spec.connectSpreadMs ?? 0), 'every client connected');
  }

  private addDevice(userId: string, deviceId: string, offset: number, urls: string[]): void {
    // Spread devices over the connectors; each client fails over to the others.
    const rotated = this.spec.urls ? urls : [...urls.slice(offset % urls.length), ...urls.slice(0, offset % urls.length)];
    const client = new ParleyClient({
      url: rotated,
      token: () => this.platform.token(userId, deviceId, 3600),
      backoff: { initialMs: 100, maxMs: this.spec.backoffMaxMs ?? 2_000 },
      resendAfterMs: 5_000,
      catchUpIntervalMs: this.spec.catchUpIntervalMs,
    });
    const device: Device = { userId, deviceId, client, received: new Map() };
    client.on('message', (m) => {
      const list = device.received.get(m.conversationId) ?? [];
      list.push(m);
      device.received.set(m.conversationId, list);
    });
    const spread = this.spec.connectSpreadMs ?? 0;
    if (spread > 0) this.connectTimers.add(setTimeout(() => client.connect(), Math.floor(Math.random() * spread)));
    else client.connect();
    this.devices.push(device);
  }

  /**
   * Sends `rate` messages per second for `durationMs` (bounded: exactly rate*duration
   * sends), from random members of random conversations, while `faults` run at their times.
   */
  async drive(scenario: string, durationMs: number, rate: number, faults: { atMs: number; run: () => Promise<void> }[]): Promise<void> {
    const total = Math.round((durationMs / 1000) * rate);
    const started = Date.now();
    const faultRuns = faults.map(async (f) => {
      await sleep(Math.max(0, started + f.atMs - Date.now()));
      await f.run();
    });
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      this.sendOne(scenario);
    }
    await Promise.all(faultRuns);
  }

  private sendOne(scenario: string): void {
    const conversation = this.conversations[Math.floor(Math.random() * this.conversations.length)]!;
    const senderId = conversation.members[Math.floor(Math.random() * conversation.members.length)]!;
    const senders = this.devices.filter((d) => d.userId === senderId);
    const device = senders[Math.floor(Math.random() * senders.length)]!;
    const record: SendRecord = { clientMsgId: randomUUID(), conversationId: conversation.id, senderId, scenario };
    this.sends.push(record);
    const p = device.client.send(conversation.id, `${scenario} ${record.clientMsgId}`, record.clientMsgId).then(
      (ack) => {
        record.acked = ack.serverMsgId;
      },
      (err: unknown) => {
        record.failed = (err as { code?: string }).code ?? String(err);
      },
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Waits until every send of the scenario is acked or refused (the SDK retries until then). */
  async settle(timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.pending.size === 0, timeoutMs, 'every send answered').catch(() => undefined);
  }

  private async storedMessages(conversationId: string): Promise<MessagesResponse__Output['messages']> {
    const storage = this.platform.storage();
    const all: MessagesResponse__Output['messages'] = [];
    for (let afterSeq = 0; ; ) {
      const page = await callUnary<MessagesResponse__Output>('Storage.Sync', 10_000, (md, opts, cb) =>
        storage.sync({ userId: '', conversationId, afterSeq, limit: 500 }, md, opts, cb),
      );
      all.push(...page.messages);
      if (!page.hasMore || page.messages.length === 0) return all;
      afterSeq = Number(page.messages[page.messages.length - 1]!.seq);
    }
  }

  /** Has every member device emitted exactly the stored sequence of every conversation? */
  private deviceState(stored: Map<string, string[]>): { converged: boolean; duplicated: number; reordered: number } {
    let converged = true;
    let duplicated = 0;
    let reordered = 0;
    for (const c of this.conversations) {
      const expected = stored.get(c.id) ?? [];
      for (const d of this.devices.filter((x) => c.members.includes(x.userId))) {
        const got = d.received.get(c.id) ?? [];
        const seqs = got.map((m) => m.seq);
        duplicated += seqs.length - new Set(seqs).size;
        if (seqs.some((s, i) => s !== i + 1)) reordered++;
        if (got.length !== expected.length || got.some((m, i) => m.serverMsgId !== expected[i])) converged = false;
      }
    }
    return { converged, duplicated, reordered };
  }

  private async snapshot(): Promise<{ stored: Map<string, string[]>; byClientId: Map<string, number>; gaps: number }> {
    const stored = new Map<string, string[]>();
    const byClientId = new Map<string, number>();
    let gaps = 0;
    for (const c of this.conversations) {
      const messages = await this.storedMessages(c.id);
      if (messages.some((m, i) => Number(m.seq) !== i + 1)) gaps++;
      stored.set(c.id, messages.map((m) => m.serverMsgId));
      for (const m of messages) byClientId.set(`${m.senderId}\n${m.clientMsgId}`, (byClientId.get(`${m.senderId}\n${m.clientMsgId}`) ?? 0) + 1);
    }
    return { stored, byClientId, gaps };
  }

  /** Waits for every device to converge (from `recoveredAt`), then scores the scenario. */
  async verify(scenario: string, recoveredAt: number, timeoutMs: number): Promise<ScenarioRow> {
    const mine = this.sends.filter((s) => s.scenario === scenario);
    const until = Date.now() + timeoutMs;
    // Reading what is stored goes through storage, which may itself be recovering: retry.
    const read = async (): Promise<Awaited<ReturnType<Workload['snapshot']>>> => {
      for (;;) {
        try {
          return await this.snapshot();
        } catch (err) {
          if (Date.now() > until) throw err;
          await sleep(500);
        }
      }
    };
    let snap = await read();
    const storedCount = (s: SendRecord) => snap.byClientId.get(`${s.senderId}\n${s.clientMsgId}`) ?? 0;
    // Converged: every acked message is stored, and every device holds exactly what is stored.
    let state = this.deviceState(snap.stored);
    const done = () => state.converged && mine.every((s) => !s.acked || storedCount(s) > 0);
    while (!done() && Date.now() < until) {
      await sleep(250);
      snap = await read();
      state = this.deviceState(snap.stored);
    }
    const convergeSeconds = (Date.now() - recoveredAt) / 1000;
    const everyDeviceHas = (s: SendRecord) =>
      this.devices
        .filter((d) => this.conversations.find((c) => c.id === s.conversationId)!.members.includes(d.userId))
        .every((d) => (d.received.get(s.conversationId) ?? []).some((m) => m.serverMsgId === s.acked));
    return {
      scenario,
      sent: mine.length,
      acked: mine.filter((s) => s.acked).length,
      stored: mine.filter((s) => storedCount(s) > 0).length,
      delivered: mine.filter((s) => s.acked && everyDeviceHas(s)).length,
      lostAcked: mine.filter((s) => s.acked && storedCount(s) === 0).length,
      lostUnacked: mine.filter((s) => !s.acked && storedCount(s) === 0).length,
      duplicated: mine.filter((s) => storedCount(s) > 1).length + state.duplicated,
      reordered: state.reordered + snap.gaps,
      convergeSeconds: Math.round(convergeSeconds * 10) / 10,
      converged: done(),
      refused: mine.reduce<Record<string, number>>((acc, s) => (s.failed ? { ...acc, [s.failed]: (acc[s.failed] ?? 0) + 1 } : acc), {}),
    };
  }

  /** Where stored or emitted sequences are not 1..n, and which devices lag behind storage. */
  async anomalies(): Promise<string[]> {
    const out: string[] = [];
    for (const c of this.conversations) {
      const stored = await this.storedMessages(c.id);
      const seqs = stored.map((m) => Number(m.seq));
      const bad = seqs.findIndex((s, i) => s !== i + 1);
      if (bad >= 0) out.push(`stored ${c.id}: at index ${bad} seq ${seqs[bad]} (around ${seqs.slice(Math.max(0, bad - 2), bad + 3).join(',')})`);
      for (const d of this.devices.filter((x) => c.members.includes(x.userId))) {
        const got = (d.received.get(c.id) ?? []).map((m) => m.seq);
        const wrong = got.findIndex((s, i) => s !== i + 1);
        if (wrong >= 0) out.push(`device ${d.userId}/${d.deviceId} ${c.id}: at index ${wrong} seq ${got[wrong]} (around ${got.slice(Math.max(0, wrong - 2), wrong + 3).join(',')})`);
        else if (got.length !== stored.length) out.push(`device ${d.userId}/${d.deviceId} ${c.id}: has ${got.length} of ${stored.length} (position ${d.client.position(c.id)}, state ${d.client.state})`);
      }
    }
    return out;
  }

  /** What was lost, for the log of a failed scenario. */
  lostAcked(scenario: string, stored: Set<string>): SendRecord[] {
    return this.sends.filter((s) => s.scenario === scenario && s.acked && !stored.has(`${s.senderId}\n${s.clientMsgId}`));
  }

  async storedKeys(): Promise<Set<string>> {
    return new Set((await this.snapshot()).byClientId.keys());
  }

  async close(): Promise<void> {
    for (const timer of this.connectTimers) clearTimeout(timer);
    await Promise.all(this.devices.map((d) => d.client.close()));
  }

  private async waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }
}

export function formatTable(rows: ScenarioRow[]): string {
  const head = ['scenario', 'sent', 'acked', 'stored', 'delivered', 'lost acked', 'lost unacked', 'duplicated', 'reordered', 'parked', 'converge s'];
  const lines = rows.map((r) => [r.scenario, r.sent, r.acked, r.stored, r.delivered, r.lostAcked, r.lostUnacked, r.duplicated, r.reordered, r.parked ?? '?', r.converged ? r.convergeSeconds : `no (${r.convergeSeconds})`].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(fmt)].join('\n');
}
