// Owns fan-out: stored messages (parley.deliveries) -> the members' live sessions
// -> one batched Connector.Deliver per connector instance. The batch (and so its
// offsets) completes only once every connector answered or was found gone.
import type { ConsumedBatch } from '@parley/bus';
import { SpanKind, extractTraceContext, isValidId, withSpan, type Logger, type ParleyError } from '@parley/core';
import type { DeliverRequest, DeliverResponse__Output, DeliveryRecord, DeviceTarget, StoredMessage } from '@parley/proto';
import type { SessionDirectory } from '@parley/sessions';

export interface ConnectorDeliverer {
  deliver(address: string, request: DeliverRequest): Promise<DeliverResponse__Output>;
}

export interface FanoutMetrics {
  delivered(n: number): void;
  offline(n: number): void;
  connectorFailed(): void;
}

export interface FanoutOptions {
  attempts: number;
  retryDelayMs?: number;
}

interface ParsedDelivery {
  message: StoredMessage & { conversationId: string; seq: number };
  memberIds: string[];
  headers: Record<string, string>;
}

export function parseDelivery(raw: Buffer): Omit<ParsedDelivery, 'headers'> | undefined {
  try {
    const value = JSON.parse(raw.toString('utf8')) as DeliveryRecord;
    const m = value.message;
    if (!m || !isValidId(m.conversationId) || typeof m.seq !== 'number' || m.seq < 1 || !Array.isArray(value.memberIds)) return undefined;
    return { message: m as ParsedDelivery['message'], memberIds: value.memberIds.filter(isValidId) };
  } catch {
    return undefined;
  }
}

export class Fanout {
  constructor(
    private readonly sessions: SessionDirectory,
    private readonly connectors: ConnectorDeliverer,
    private readonly log: Logger,
    private readonly options: FanoutOptions,
    private readonly metrics: FanoutMetrics = { delivered: () => {}, offline: () => {}, connectorFailed: () => {} },
  ) {}

  async handleBatch(batch: ConsumedBatch): Promise<void> {
    const deliveries: ParsedDelivery[] = [];
    for (const record of batch.records) {
      const parsed = parseDelivery(record.value);
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
    const perConnector = new Map<string, DeliverRequest & { deliveries: { message: StoredMessage; targets: DeviceTarget[] }[] }>();
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
          const targets = targetsByAddress.get(session.address) ?? [];
          targets.push({ userId, deviceId: session.deviceId });
          targetsByAddress.set(session.address, targets);
        }
      }
      for (const [address, targets] of targetsByAddress) {
        const request = perConnector.get(address) ?? { deliveries: [] };
        request.deliveries.push({ message: delivery.message, targets });
        perConnector.set(address, request);
      }
    }
    if (offline > 0) this.metrics.offline(offline);
    await Promise.all([...perConnector].map(([address, request]) => this.deliverTo(address, request)));
  }

  private async deliverTo(address: string, request: DeliverRequest): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await this.connectors.deliver(address, request);
        this.metrics.delivered(Number(response.written));
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
