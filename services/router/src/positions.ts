// Owns the router's QoS 0 and position traffic: device receipts (delivered/read) to
// parley.receipts and signals (typing, ...) to parley.signals. Both are checked against
// membership first, from the router's membership cache (kept true by membership events).
// Signals carry no member list: push resolves the members (a record stays small whatever
// the group's size).
import { receiptsRecords, signalsRecords, type MessageBus } from '@parley/bus';
import { ParleyError, isValidId, unstorableText } from '@parley/core';
import type { ReceiptRequest__Output, SignalRequest__Output } from '@parley/proto';
import type { TokenBuckets } from './rate-limit';
import type { SendAuthorizer } from './router';

export interface PositionDeps {
  bus: MessageBus;
  receiptsTopic: string;
  signalsTopic: string;
  membership: SendAuthorizer;
  signalLimiter: TokenBuckets;
  now?: () => number;
}

const SIGNAL_KIND = /^[a-z0-9_.-]{1,32}$/;
export const MAX_SIGNAL_DATA_BYTES = 1024;

function requireId(value: string, field: string): void {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
}

async function requireMember(membership: SendAuthorizer, conversationId: string, userId: string): Promise<void> {
  const { exists, member } = await membership.isMember(conversationId, userId);
  if (!exists) throw new ParleyError('NOT_FOUND', `conversation ${conversationId} does not exist`);
  if (!member) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
}

export async function routeReceipt(deps: PositionDeps, req: ReceiptRequest__Output): Promise<Record<string, never>> {
  requireId(req.userId, 'user_id');
  requireId(req.deviceId, 'device_id');
  requireId(req.conversationId, 'conversation_id');
  if (req.kind !== 'delivered' && req.kind !== 'read') throw new ParleyError('INVALID_ARGUMENT', 'kind must be "delivered" or "read"');
  const seq = Number(req.seq);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer');
  await requireMember(deps.membership, req.conversationId, req.userId);
  const receipt = { conversationId: req.conversationId, userId: req.userId, deviceId: req.deviceId, kind: req.kind, seq, at: (deps.now ?? Date.now)() } as const;
  await deps.bus.publish(deps.receiptsTopic, [receiptsRecords.record({ kind: 'receipt', receipt })]);
  return {};
}

export async function routeSignal(deps: PositionDeps, req: SignalRequest__Output): Promise<Record<string, never>> {
  requireId(req.senderId, 'sender_id');
  requireId(req.senderDeviceId, 'sender_device_id');
  requireId(req.conversationId, 'conversation_id');
  if (!SIGNAL_KIND.test(req.kind)) throw new ParleyError('INVALID_ARGUMENT', 'kind must match [a-z0-9_.-]{1,32}');
  if (Buffer.byteLength(req.data, 'utf8') > MAX_SIGNAL_DATA_BYTES) throw new ParleyError('INVALID_ARGUMENT', `data is larger than ${MAX_SIGNAL_DATA_BYTES} bytes`);
  const problem = unstorableText(req.data);
  if (problem) throw new ParleyError('INVALID_ARGUMENT', `data ${problem}`);
  if (!deps.signalLimiter.take(req.senderId)) throw new ParleyError('RESOURCE_EXHAUSTED', 'signalling too fast');
  await requireMember(deps.membership, req.conversationId, req.senderId);
  const signal = { conversationId: req.conversationId, senderId: req.senderId, senderDeviceId: req.senderDeviceId, kind: req.kind, data: req.data, sentAt: (deps.now ?? Date.now)() };
  await deps.bus.publish(deps.signalsTopic, [signalsRecords.record({ kind: 'signal', signal })]);
  return {};
}
