// Owns coalescing the connector's send batches into Router.SendMany calls: the batches of
// every (device, conversation) queue that become ready in one turn of the event loop go to
// the router together (one call and one Kafka produce instead of one of each per batch),
// bounded per call. Each batch still gets its own answer, or its own error, exactly as
// Router.SendBatch would give it; nothing waits longer than the current turn.
import { ERROR_CODES, ParleyError, asParleyError, type ErrorCode } from '@parley/core';
import type { SendBatchResponse__Output } from '@parley/proto';

export interface SendBatch {
  senderId: string;
  senderDeviceId: string;
  conversationId: string;
  items: { clientMsgId: string; body: string }[];
}

export interface SendManyAnswer {
  results: { response?: SendBatchResponse__Output | null; errorCode: string; errorMessage: string; retryable: boolean }[];
}

/** What the router takes in one SendMany (MAX_MANY_BATCHES, MAX_MANY_ITEMS in the router). */
export const MANY_MAX_BATCHES = 256;
export const MANY_MAX_ITEMS = 1_024;
/** Bodies per call, in UTF-8 bytes: well under the router's 8 MiB gRPC message limit. */
export const MANY_MAX_BYTES = 4 * 1024 * 1024;

const bytesOf = (batch: SendBatch): number => batch.items.reduce((n, item) => n + Buffer.byteLength(item.body, 'utf8'), 0);

interface Waiting {
  batch: SendBatch;
  resolve(res: SendBatchResponse__Output): void;
  reject(err: unknown): void;
}

/** A code from an answer, as one of ours (an unknown one is INTERNAL). */
export function errorCodeOf(code: string): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
}

export class SendCoalescer {
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly sendMany: (batches: SendBatch[]) => Promise<SendManyAnswer>) {}

  /** One device's batch to one conversation; answered as Router.SendBatch answers it. */
  send(batch: SendBatch): Promise<SendBatchResponse__Output> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const all = this.waiting;
    this.waiting = [];
    let call: Waiting[] = [];
    let items = 0;
    let bytes = 0;
    for (const w of all) {
      const size = bytesOf(w.batch);
      if (call.length > 0 && (call.length >= MANY_MAX_BATCHES || items + w.batch.items.length > MANY_MAX_ITEMS || bytes + size > MANY_MAX_BYTES)) {
        this.call(call);
        call = [];
        items = 0;
        bytes = 0;
      }
      call.push(w);
      items += w.batch.items.length;
      bytes += size;
    }
    if (call.length > 0) this.call(call);
  }

  private call(call: Waiting[]): void {
    this.sendMany(call.map((w) => w.batch)).then(
      (answer) =>
        call.forEach((w, i) => {
          const r = answer.results[i];
          if (r?.response && r.errorCode === '') w.resolve(r.response);
          else w.reject(r ? new ParleyError(errorCodeOf(r.errorCode), r.errorMessage, { retryable: r.retryable }) : new ParleyError('INTERNAL', 'no answer for this batch'));
        }),
      (err: unknown) => {
        const error = asParleyError(err);
        for (const w of call) w.reject(error);
      },
    );
  }
}
