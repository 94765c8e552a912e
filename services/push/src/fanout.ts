// Owns fan-out: stored messages and receipts (parley.deliveries) and signals
// (parley.signals) -> the members' live sessions -> one batched Connector.Deliver per
// connector instance. The batch (and so its offsets) completes only once every
// connector answered or was found gone.
import type { ConsumedBatch } from '@parley/bus';
import { SpanKind, extractTraceContext, isValidId, withSpan, type Logger, type ParleyError } from '@parley/core';
import type { DeliverRequest, DeliverResponse__Output, DeliveryRecord, DeviceTarget, Receipt, Signal, StoredMessage } from '@parley/proto';
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
  /** Wall clock in ms (sentAt is the router's wall clock); tests pass their own. */
  now?: () => number;
}

type ValidMessage = StoredMessage & { conversationId: string; seq: number };
type ValidReceipt = Receipt & { conversationId: string; userId: string; deviceId: string; kind: 'delivered' | 'read'; seq: number };
type ValidSignal = Signal & { conversationId: string; senderId: string; senderDeviceId: string; kind: string };

/** One thing to fan out: exactly one of message, receipt and signal. */
interface ParsedDelivery {
  message?: ValidMessage;
  receipt?: ValidReceipt;
  signal?: ValidSignal;
  memberIds: string[];
  headers: Record<string, string>;
}

function isReceipt(r: Receipt | null | undefined): r is ValidReceipt {
  return !!r && isValidId(r.conversationId) && isValidId(r.userId) && isValidId(r.deviceId) && (r.kind === 'delivered' || r.kind === 'read') && typeof r.seq === 'number' && r.seq >= 1;
}

/** A parley.deliveries record: a stored message or a stored receipt, with the members it goes to. */
export function parseDelivery(raw: Buffer): Omit<ParsedDelivery, 'headers'> | undefined {
  try {
    const value = JSON.parse(raw.toString('utf8')) as DeliveryRecord;
    if (!Array.isArray(value.memberIds)) return undefined;
    const memberIds = [...new Set((value.memberIds as unknown[]).filter(isValidId))];
    const m = value.message;
    if (m) {
      if (!isValidId(m.conversationId) || typeof m.seq !== 'number' || m.seq < 1) return undefined;
      return { message: m as ValidMessage, memberIds };
    }
    if (isReceipt(value.receipt)) return { receipt: value.receipt, memberIds };
    return undefined;
  } catch {
    return undefined;
  }
}

/** A parley.signals record. */
export function parseSignal(raw: Buffer): Omit<ParsedDelivery, 'headers'> | undefined {
  try {
    const s = JSON.parse(raw.toString('utf8')) as Signal;
    if (!isValidId(s.conversationId) || !isValidId(s.senderId) || !isValidId(s.senderDeviceId) || typeof s.kind !== 'string' || !Array.isArray(s.memberIds)) return undefined;
    return { signal: s as ValidSignal, memberIds: [...new Set((s.memberIds as unknown[]).filter(isValidId))] };
  } catch {
    return undefined;
  }
}

/**
 * Who gets a delivery: every device of every member for a message; for a signal, all but
 * the sending device; for a read receipt, all but the device that read (the reader's other
 * devices clear their badges); for a delivered receipt, the other members only.
 */
function wants(d: Omit<ParsedDelivery, 'headers'>, userId: string, deviceId: string): boolean {
  if (d.signal) return !(userId === d.signal.senderId && deviceId === d.signal.senderDeviceId);
  if (d.receipt) return d.receipt.kind === 'read' ? !(userId === d.receipt.userId && deviceId === d.receipt.deviceId) : userId !== d.receipt.userId;
  return true;
}

export class Fanout {
  constructor(
    private readonly sessions: SessionDirectory,
    private readonly connectors: ConnectorDeliverer,
    private readonly log: Logger,
    private readonly options: FanoutOptions,
    private readonly metrics: FanoutMetrics = { delivered: () => {}, offline: () => {}, connectorFailed: () => {} },
  ) {}

  /** A batch of parley.deliveries (messages and receipts). */
  handleBatch(batch: ConsumedBatch): Promise<void> {
    return this.handle(batch, parseDelivery);
  }

  /** A batch of parley.signals (QoS 0). */
  handleSignals(batch: ConsumedBatch): Promise<void> {
    return this.handle(batch, parseSignal);
  }

  private async handle(batch: ConsumedBatch, parse: (raw: Buffer) => Omit<ParsedDelivery, 'headers'> | undefined): Promise<void> {
    const deliveries: ParsedDelivery[] = [];
    for (const record of batch.records) {
      const parsed = parse(record.value);
      if (!parsed) {
        this.log.warn({ partition: record.partition, offset: record.offset }, 'dropping malformed delivery record');
        continue;
      }
      deliveries.push({ ...parsed, headers: record.headers });
    }
    if (deliveries.length === 0) return;
    const parent = extractTraceContext(deliveries[0]!.headers);
    await withSpan('push.fanout', { kind: SpanKind.CONSUMER, parent, attributes: { 'parley.batch_size': deliveries.length } }, () => this.fanOut(deliveries));
  }

  private async fanOut(deliveries: ParsedDelivery[]): Promise<void> {
    const everyone = [...new Set(deliveries.flatMap((d) => d.memberIds))];
    const live = await this.sessions.lookup(everyone);
    // address -> the request for that connector, deliveries kept in record (seq) order.
    const perConnector = new Map<string, DeliverRequest & { deliveries: { message?: StoredMessage; receipt?: Receipt; signal?: Signal; targets: DeviceTarget[] }[] }>();
    let offline = 0;
    for (const delivery of deliveries) {
      const targetsByAddress = new Map<string, DeviceTarget[]>();
      for (const userId of delivery.memberIds) {
        const sessions = live.get(userId);
        if (!sessions) {
          offline++;
          continue;
        }
        for (const session of sessions) {
          if (!wants(delivery, userId, session.deviceId)) continue;
          const targets = targetsByAddress.get(session.address) ?? [];
          targets.push({ userId, deviceId: session.deviceId });
          targetsByAddress.set(session.address, targets);
        }
      }
      for (const [address, targets] of targetsByAddress) {
        const request = perConnector.get(address) ?? { deliveries: [] };
        const { signal } = delivery;
        // Member lists stay in Kafka and push: connectors only need the payload.
        const payload = delivery.message ? { message: delivery.message } : delivery.receipt ? { receipt: delivery.receipt } : { signal: { ...signal, memberIds: [] } };
        request.deliveries.push({ ...payload, targets });
        perConnector.set(address, request);
      }
    }
    if (offline > 0) this.metrics.offline(offline);
    await Promise.all([...perConnector].map(([address, request]) => this.deliverTo(address, request)));
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
