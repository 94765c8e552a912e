// Owns the router's QoS 0 and position traffic: device receipts (delivered/read) to
// parley.receipts and signals (typing, ...) to parley.signals. Both are checked against
// membership first, from the router's membership cache (kept true by membership events).
// Signals carry no member list: push resolves the members (a record stays small whatever
// the group's size).
import { receiptsRecords, signalsRecords, type MessageBus, type OutgoingRecord } from '@parley/bus';
import { ParleyError, absentConversationError, asParleyError, isValidId, rateLimitedError, unstorableText } from '@parley/core';
import type { RateLimiter } from '@parley/limits';
import type { ReceiptBatchRequest__Output, ReceiptBatchResponse, ReceiptRequest__Output, SignalRequest__Output } from '@parley/proto';
import type { SendAuthorizer } from './router';

export interface PositionDeps {
  bus: MessageBus;
  receiptsTopic: string;
  signalsTopic: string;
  membership: SendAuthorizer;
  signalLimiter: RateLimiter;
  now?: () => number;
}

const SIGNAL_KIND = /^[a-z0-9_.-]{1,32}$/;
export const MAX_SIGNAL_DATA_BYTES = 1024;

function requireId(value: string, field: string): void {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
}

async function requireMember(membership: SendAuthorizer, conversationId: string, userId: string): Promise<void> {
  const { exists, member } = await membership.isMember(conversationId, userId);
  if (!exists) throw absentConversationError(conversationId);
  if (!member) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
}

/** Most positions one ReceiptBatch may carry. */
export const MAX_RECEIPT_BATCH = 1_000;

/** A valid position of a member, as its parley.receipts record. */
async function receiptRecord(deps: PositionDeps, req: ReceiptRequest__Output): Promise<OutgoingRecord> {
  requireId(req.userId, 'user_id');
  requireId(req.deviceId, 'device_id');
  requireId(req.conversationId, 'conversation_id');
  if (req.kind !== 'delivered' && req.kind !== 'read') throw new ParleyError('INVALID_ARGUMENT', 'kind must be "delivered" or "read"');
  const seq = Number(req.seq);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer');
  await requireMember(deps.membership, req.conversationId, req.userId);
  const receipt = { conversationId: req.conversationId, userId: req.userId, deviceId: req.deviceId, kind: req.kind, seq, at: (deps.now ?? Date.now)() } as const;
  return receiptsRecords.record({ kind: 'receipt', receipt });
}

export async function routeReceipt(deps: PositionDeps, req: ReceiptRequest__Output): Promise<Record<string, never>> {
  await deps.bus.publish(deps.receiptsTopic, [await receiptRecord(deps, req)]);
  return {};
}

/**
 * Positions of any devices and conversations in one call: each is checked on its own (a bad
 * one is answered, not fatal to the others), the valid ones go out in one produce.
 */
export async function routeReceiptBatch(deps: PositionDeps, req: ReceiptBatchRequest__Output): Promise<ReceiptBatchResponse> {
  if (req.receipts.length > MAX_RECEIPT_BATCH) throw new ParleyError('INVALID_ARGUMENT', `a batch holds at most ${MAX_RECEIPT_BATCH} receipts`);
  const checked = await Promise.all(req.receipts.map((r) => receiptRecord(deps, r).then((record) => ({ record }), (err: unknown) => ({ error: asParleyError(err) }))));
  const records = checked.flatMap((c) => ('record' in c ? [c.record] : []));
  if (records.length > 0) await deps.bus.publish(deps.receiptsTopic, records);
  return {
    results: checked.map((c) => ('error' in c ? { errorCode: c.error.code, errorMessage: c.error.message, retryable: c.error.retryable } : { errorCode: '', errorMessage: '', retryable: false })),
  };
}

export async function routeSignal(deps: PositionDeps, req: SignalRequest__Output): Promise<Record<string, never>> {
  requireId(req.senderId, 'sender_id');
  requireId(req.senderDeviceId, 'sender_device_id');
  requireId(req.conversationId, 'conversation_id');
  if (!SIGNAL_KIND.test(req.kind)) throw new ParleyError('INVALID_ARGUMENT', 'kind must match [a-z0-9_.-]{1,32}');
  if (Buffer.byteLength(req.data, 'utf8') > MAX_SIGNAL_DATA_BYTES) throw new ParleyError('INVALID_ARGUMENT', `data is larger than ${MAX_SIGNAL_DATA_BYTES} bytes`);
  const problem = unstorableText(req.data);
  if (problem) throw new ParleyError('INVALID_ARGUMENT', `data ${problem}`);
  const admission = deps.signalLimiter.take(req.senderId);
  if (!admission.ok) throw rateLimitedError('signalling too fast', admission.retryAfterMs);
  await requireMember(deps.membership, req.conversationId, req.senderId);
  const signal = { conversationId: req.conversationId, senderId: req.senderId, senderDeviceId: req.senderDeviceId, kind: req.kind, data: req.data, sentAt: (deps.now ?? Date.now)() };
  await deps.bus.publish(deps.signalsTopic, [signalsRecords.record({ kind: 'signal', signal })]);
  return {};
}
