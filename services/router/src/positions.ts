// Owns the router's QoS 0 and position traffic: device receipts (delivered/read) to
// parley.receipts and signals (typing, ...) to parley.signals. Both are checked against
// membership first, from a short cache, so a chatty client costs storage little.
import type { MessageBus } from '@parley/bus';
import { ParleyError, isValidId } from '@parley/core';
import type { ReceiptRequest__Output, Receipt, Signal, SignalRequest__Output } from '@parley/proto';
import type { TokenBuckets } from './rate-limit';

export interface Membership {
  /** Throws NOT_FOUND for an unknown conversation. */
  isMember(conversationId: string, userId: string): Promise<boolean>;
  /** Throws NOT_FOUND for an unknown conversation. */
  members(conversationId: string): Promise<string[]>;
}

export interface PositionDeps {
  bus: MessageBus;
  receiptsTopic: string;
  signalsTopic: string;
  membership: Membership;
  signalLimiter: TokenBuckets;
  now?: () => number;
}

const SIGNAL_KIND = /^[a-z0-9_.-]{1,32}$/;
export const MAX_SIGNAL_DATA_BYTES = 1024;

function requireId(value: string, field: string): void {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
}

async function requireMember(membership: Membership, conversationId: string, userId: string): Promise<void> {
  if (!(await membership.isMember(conversationId, userId))) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
}

export async function routeReceipt(deps: PositionDeps, req: ReceiptRequest__Output): Promise<Record<string, never>> {
  requireId(req.userId, 'user_id');
  requireId(req.deviceId, 'device_id');
  requireId(req.conversationId, 'conversation_id');
  if (req.kind !== 'delivered' && req.kind !== 'read') throw new ParleyError('INVALID_ARGUMENT', 'kind must be "delivered" or "read"');
  const seq = Number(req.seq);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new ParleyError('INVALID_ARGUMENT', 'seq must be a positive integer');
  await requireMember(deps.membership, req.conversationId, req.userId);
  const receipt: Receipt = { conversationId: req.conversationId, userId: req.userId, deviceId: req.deviceId, kind: req.kind, seq, at: (deps.now ?? Date.now)() };
  await deps.bus.publish(deps.receiptsTopic, [{ key: req.conversationId, value: JSON.stringify(receipt) }]);
  return {};
}

export async function routeSignal(deps: PositionDeps, req: SignalRequest__Output): Promise<Record<string, never>> {
  requireId(req.senderId, 'sender_id');
  requireId(req.senderDeviceId, 'sender_device_id');
  requireId(req.conversationId, 'conversation_id');
  if (!SIGNAL_KIND.test(req.kind)) throw new ParleyError('INVALID_ARGUMENT', 'kind must match [a-z0-9_.-]{1,32}');
  if (Buffer.byteLength(req.data, 'utf8') > MAX_SIGNAL_DATA_BYTES) throw new ParleyError('INVALID_ARGUMENT', `data is larger than ${MAX_SIGNAL_DATA_BYTES} bytes`);
  if (!deps.signalLimiter.take(req.senderId)) throw new ParleyError('RESOURCE_EXHAUSTED', 'signalling too fast');
  const memberIds = await deps.membership.members(req.conversationId);
  if (!memberIds.includes(req.senderId)) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
  const signal: Signal = {
    conversationId: req.conversationId,
    senderId: req.senderId,
    senderDeviceId: req.senderDeviceId,
    kind: req.kind,
    data: req.data,
    sentAt: (deps.now ?? Date.now)(),
    memberIds,
  };
  await deps.bus.publish(deps.signalsTopic, [{ key: req.conversationId, value: JSON.stringify(signal) }]);
  return {};
}

/** Positive answers are cached briefly (a removed member may keep signalling for ttlMs); negatives are not. */
export class CachedMembership implements Membership {
  private readonly memberOf = new Map<string, number>();
  private readonly lists = new Map<string, { ids: string[]; until: number }>();

  constructor(
    private readonly source: Membership,
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    const key = `${conversationId}\n${userId}`;
    const until = this.memberOf.get(key);
    if (until !== undefined && until > this.now()) return true;
    const member = await this.source.isMember(conversationId, userId);
    if (member) this.remember(this.memberOf, key, this.now() + this.ttlMs);
    else this.memberOf.delete(key);
    return member;
  }

  async members(conversationId: string): Promise<string[]> {
    const hit = this.lists.get(conversationId);
    if (hit && hit.until > this.now()) return hit.ids;
    const ids = await this.source.members(conversationId);
    this.remember(this.lists, conversationId, { ids, until: this.now() + this.ttlMs });
    return ids;
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    if (map.size >= this.maxEntries) map.delete(map.keys().next().value as string);
    map.set(key, value);
  }
}
