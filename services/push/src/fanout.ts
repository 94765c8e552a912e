// Owns fan-out: stored messages, receipts and rejections (parley.deliveries) and signals
// (parley.signals) -> the members' live sessions -> batched Connector.Deliver calls per
// connector instance. Records carry no member lists: push resolves the members itself from
// its member-list cache, kept true by the membership changes that come through the same
// stream (in order) and through the membership broadcast. The batch (and so its offsets)
// completes only once every connector answered or was found gone.
import { decodeBatch, deliveriesRecords, signalsRecords, type ConsumedBatch, type DeliveriesEntry, type ValidReceipt, type ValidRejection, type ValidSignal, type ValidStored } from '@parley/bus';
import { SpanKind, extractTraceContext, isBotId, withSpan, type Logger, type ParleyError } from '@parley/core';
import type { MemberListCache } from '@parley/membership';
import type { DeliverRequest, DeliverResponse__Output, DeviceTarget } from '@parley/proto';
import type { SessionDirectory } from '@parley/sessions';

export interface ConnectorDeliverer {
  deliver(address: string, request: DeliverRequest): Promise<DeliverResponse__Output>;
}

export interface FanoutMetrics {
  delivered(n: number): void;
  offline(n: number): void;
  connectorFailed(): void;
  /** Seconds from the router accepting a message (sentAt) to a connector taking it for its sockets. */
  messageLatency?(seconds: number): void;
}

export interface FanoutOptions {
  attempts: number;
  retryDelayMs?: number;
  /** Targets per Connector.Deliver call (a 100,000-member group is several calls, in order). */
  maxTargetsPerCall?: number;
  /** Wall clock in ms (sentAt is the router's wall clock); tests pass their own. */
  now?: () => number;
}

/** One thing to fan out, with who gets it. */
type Item =
  | { kind: 'message'; message: ValidStored }
  | { kind: 'receipt'; receipt: ValidReceipt }
  | { kind: 'signal'; signal: ValidSignal }
  | { kind: 'rejected'; rejection: ValidRejection };

type Payload = Pick<DeliverRequest['deliveries'] extends (infer D)[] | undefined ? D : never, 'message' | 'receipt' | 'signal' | 'rejected'>;

/**
 * Who gets an item: every device of every member for a message; for a signal, all but the
 * sending device; for a read receipt, all but the device that read (the reader's other
 * devices clear their badges); for a delivered receipt, the other members only; a
 * rejection, the sending device only.
 */
/**
 * Up to this many members, a member's delivered and read positions go to the other members
 * (receipts); in a larger conversation only to the member's own other devices (read), since N
 * members each moving their position would cost N² frames per message (a 1,000-member group at
 * 2 msg/s: two million receipt frames a second). Unread and read counts there come from `convs`.
 */
export const RECEIPTS_TO_MEMBERS_UP_TO = 256;

function wants(item: Item, userId: string, deviceId: string): boolean {
  switch (item.kind) {
    case 'message':
      return true;
    case 'signal':
      return !(userId === item.signal.senderId && deviceId === item.signal.senderDeviceId);
    case 'receipt':
      return item.receipt.kind === 'read' ? !(userId === item.receipt.userId && deviceId === item.receipt.deviceId) : userId !== item.receipt.userId;
    case 'rejected':
      return userId === item.rejection.senderId && deviceId === item.rejection.senderDeviceId;
  }
}

function payload(item: Item): Payload {
  switch (item.kind) {
    case 'message':
      return { message: item.message };
    case 'receipt':
      return { receipt: item.receipt };
    case 'signal':
      return { signal: { ...item.signal, memberIds: [] } };
    case 'rejected':
      return { rejected: item.rejection };
  }
}

const conversationOf = (item: Item): string =>
  item.kind === 'message' ? item.message.conversationId : item.kind === 'receipt' ? item.receipt.conversationId : item.kind === 'signal' ? item.signal.conversationId : item.rejection.conversationId;

export class Fanout {
  constructor(
    private readonly sessions: SessionDirectory,
    private readonly connectors: ConnectorDeliverer,
    private readonly members: MemberListCache,
    private readonly log: Logger,
    private readonly options: FanoutOptions,
    private readonly metrics: FanoutMetrics = { delivered: () => {}, offline: () => {}, connectorFailed: () => {} },
  ) {}

  /** A batch of parley.deliveries: membership changes apply, in order, to what follows them. */
  async handleBatch(batch: ConsumedBatch): Promise<void> {
    const entries = decodeBatch(deliveriesRecords, batch);
    if (entries.length === 0) return;
    const parent = extractTraceContext(entries[0]!.record.headers);
    await withSpan('push.fanout', { kind: SpanKind.CONSUMER, parent, attributes: { 'parley.batch_size': entries.length } }, async () => {
      let segment: Item[] = [];
      for (const { entry } of entries) {
        if (entry.kind === 'membership') {
          await this.fanOut(segment);
          segment = [];
          this.members.apply(entry.change);
          continue;
        }
        // A direct conversation's message names its two members (proven by its id): no lookup.
        if (entry.kind === 'message' && entry.members) this.members.primeDirect(entry.message.conversationId, entry.members);
        segment.push(toItem(entry));
      }
      await this.fanOut(segment);
    });
  }

  /** A batch of parley.signals (QoS 0). */
  async handleSignals(batch: ConsumedBatch): Promise<void> {
    const items: Item[] = decodeBatch(signalsRecords, batch).map(({ entry }) => ({ kind: 'signal', signal: entry.signal }));
    await this.fanOut(items);
  }

  private async fanOut(items: Item[]): Promise<void> {
    if (items.length === 0) return;
    // Who each item goes to: a rejection to its sender; everything else to the members.
    const audiences = await Promise.all(
      items.map(async (item): Promise<ReadonlySet<string>> => {
        // A bot has no devices (it posts with an API key, never over a socket): its refused
        // send is the sequencer's metric and log, not a frame to anyone.
        if (item.kind === 'rejected') return isBotId(item.rejection.senderId) ? new Set<string>() : new Set([item.rejection.senderId]);
        const members = await this.members.get(conversationOf(item));
        if (item.kind === 'receipt' && members.size > RECEIPTS_TO_MEMBERS_UP_TO) return members.has(item.receipt.userId) ? new Set([item.receipt.userId]) : new Set<string>();
        return members;
      }),
    );
    const everyone = new Set<string>();
    for (const audience of audiences) for (const u of audience) everyone.add(u);
    const live = await this.sessions.lookup([...everyone]);
    // address -> deliveries for that connector, kept in record (seq) order.
    const perConnector = new Map<string, { payload: Payload; targets: DeviceTarget[] }[]>();
    let offline = 0;
    items.forEach((item, i) => {
      const targetsByAddress = new Map<string, DeviceTarget[]>();
      for (const userId of audiences[i]!) {
        const sessions = live.get(userId);
        if (!sessions) {
          offline++;
          continue;
        }
        for (const session of sessions) {
          if (!wants(item, userId, session.deviceId)) continue;
          let targets = targetsByAddress.get(session.address);
          if (!targets) targetsByAddress.set(session.address, (targets = []));
          targets.push({ userId, deviceId: session.deviceId });
        }
      }
      for (const [address, targets] of targetsByAddress) {
        let list = perConnector.get(address);
        if (!list) perConnector.set(address, (list = []));
        list.push({ payload: payload(item), targets });
      }
    });
    if (offline > 0) this.metrics.offline(offline);
    await Promise.all([...perConnector].map(([address, deliveries]) => this.deliverInOrder(address, deliveries)));
  }

  /** One connector's deliveries, in calls of at most maxTargetsPerCall targets, one after another (order). */
  private async deliverInOrder(address: string, deliveries: { payload: Payload; targets: DeviceTarget[] }[]): Promise<void> {
    const max = this.options.maxTargetsPerCall ?? 20_000;
    let request: DeliverRequest & { deliveries: NonNullable<DeliverRequest['deliveries']> } = { deliveries: [] };
    let count = 0;
    for (const d of deliveries) {
      for (let i = 0; i < d.targets.length; i += max) {
        const targets = d.targets.slice(i, i + max);
        if (count > 0 && count + targets.length > max) {
          await this.deliverTo(address, request);
          request = { deliveries: [] };
          count = 0;
        }
        request.deliveries.push({ ...d.payload, targets });
        count += targets.length;
      }
    }
    if (count > 0) await this.deliverTo(address, request);
  }

  private observeLatency(request: DeliverRequest): void {
    if (!this.metrics.messageLatency) return;
    const now = (this.options.now ?? Date.now)();
    for (const delivery of request.deliveries ?? []) {
      const sentAt = Number(delivery.message?.sentAt);
      // A clock step between router and push hosts can make it negative: skip, never clamp.
      if (Number.isFinite(sentAt) && sentAt > 0 && now >= sentAt) this.metrics.messageLatency((now - sentAt) / 1000);
    }
  }

  private async deliverTo(address: string, request: DeliverRequest): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.connectors.deliver(address, request);
        this.metrics.delivered(Number(response.written));
        this.observeLatency(request);
        return;
      } catch (err) {
        const error = err as ParleyError;
        if (attempt >= this.options.attempts || error.retryable === false) {
          // The connector is gone or refuses: its devices are offline now and will sync on reconnect.
          this.metrics.connectorFailed();
          this.log.warn({ address, code: error.code, attempt }, 'connector did not take deliveries; its devices will sync');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryDelayMs ?? 100) * attempt));
      }
    }
  }
}

function toItem(entry: Exclude<DeliveriesEntry, { kind: 'membership' }>): Item {
  switch (entry.kind) {
    case 'message':
      return { kind: 'message', message: entry.message };
    case 'receipt':
      return { kind: 'receipt', receipt: entry.receipt };
    case 'rejected':
      return { kind: 'rejected', rejection: entry.rejection };
  }
}
