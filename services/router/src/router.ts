// Owns the Send decision: validate, rate-limit, authorize, make durable, answer. The
// membership answer comes from the router's cache (kept true by membership events), so a
// send costs no storage call; the sequencer checks membership again, in the conversation's
// order, and refuses what reaches it after a removal (the sender gets a `rejected` frame).
// A resend is produced again: storage's unique indexes drop the copy, and the resend is
// not delivered a second time.
//
// Who may send as whom comes first (authorizeSender, on the principal the gRPC server
// attached): a user through a connector or a send-as key, a bot (`bot:<name>`) only through
// its own key. A bot then passes the same membership check as a user: the conversation must
// allow it (its grant travels with the membership events), and the sequencer checks again.
import { messagesRecords, type MessageBus, type OutgoingRecord } from '@parley/bus';
import {
  ParleyError,
  SpanKind,
  absentConversationError,
  asParleyError,
  authorizeSender,
  describePrincipal,
  injectTraceContext,
  isBotId,
  isDirectPair,
  isValidId,
  rateLimitedError,
  serverMsgIdFor,
  unstorableText,
  withSpan,
  type Logger,
  type Principal,
} from '@parley/core';
import type { RateLimiter } from '@parley/limits';
import type { SendBatchRequest__Output, SendBatchResponse, SendItemResult, SendManyRequest__Output, SendManyResponse, SendRequest__Output, SendResponse } from '@parley/proto';

export interface SendAuthorizer {
  /** Is userId a member? exists: false for an unknown conversation. */
  isMember(conversationId: string, userId: string): Promise<{ exists: boolean; member: boolean }>;
  /** A direct conversation's two members, when known without a lookup (they go along in the record). */
  directMembers?(conversationId: string): string[] | undefined;
}

export interface RouterDeps {
  bus: MessageBus;
  messagesTopic: string;
  authorizer: SendAuthorizer;
  /** The sender's limit: one user's sends across every router when shared (RATE_LIMIT_STORE=redis). */
  limiter: RateLimiter;
  maxBodyBytes: number;
  now?: () => number;
  /** Where refused senders are written down (audit). */
  log?: Logger;
}

/** Most items one SendBatch may carry (the SDK keeps at most 64 sends in flight). */
export const MAX_BATCH_ITEMS = 64;

/** Takes one of the sender's sends from the limiter, or refuses it with when to retry. Never waits. */
function admitSend(limiter: RateLimiter, senderId: string): void {
  const admission = limiter.take(senderId);
  if (!admission.ok) throw rateLimitedError('sending too fast; slow down and retry', admission.retryAfterMs);
}

function requireId(value: string, field: string): void {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
}

/**
 * A body the store can hold, exactly as sent: not empty, within the limit in UTF-8 bytes,
 * well-formed UTF-16 (a lone surrogate cannot be encoded in UTF-8, and would come back as
 * U+FFFD) and free of U+0000 (PostgreSQL, under FerretDB, refuses it in text).
 */
export function checkBody(body: unknown, maxBytes: number): string {
  if (typeof body !== 'string' || body.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'body must not be empty');
  const problem = unstorableText(body);
  if (problem) throw new ParleyError('INVALID_ARGUMENT', `body ${problem}`);
  if (Buffer.byteLength(body, 'utf8') > maxBytes) throw new ParleyError('INVALID_ARGUMENT', `body is larger than ${maxBytes} bytes`);
  return body;
}

/**
 * The sending device's id after checking that the caller may send as senderId: a user's
 * device as the request names it; for a bot, the id of the key it sends with (a bot has no
 * devices, and the key is what an operator revokes), which the request may name or leave empty.
 */
function checkSender(deps: RouterDeps, principal: Principal, senderId: string, senderDeviceId: string, conversationId: string): string {
  requireId(senderId, 'sender_id');
  const denied = authorizeSender(principal, senderId);
  if (denied) {
    deps.log?.warn({ audit: true, ...describePrincipal(principal), senderId, conversationId }, 'send refused: this caller may not send as this sender');
    throw denied;
  }
  if (isBotId(senderId) && principal.kind === 'key') {
    if (senderDeviceId !== '' && senderDeviceId !== principal.keyId) throw new ParleyError('INVALID_ARGUMENT', "a bot's sender_device_id is the id of its key (or empty)");
    return principal.keyId;
  }
  requireId(senderDeviceId, 'sender_device_id');
  return senderDeviceId;
}

/**
 * Refuses a sender who is not a member (a bot: whom the conversation does not allow). Answers, for a direct conversation, its two members
 * when they are proven by its id: the record carries them, so neither the sequencer nor push
 * looks them up.
 */
async function authorize(deps: RouterDeps, conversationId: string, senderId: string): Promise<{ members?: string[] }> {
  const { exists, member } = await deps.authorizer.isMember(conversationId, senderId);
  if (!exists) throw absentConversationError(conversationId);
  if (!member) throw new ParleyError('PERMISSION_DENIED', isBotId(senderId) ? `this conversation does not allow ${senderId}` : 'not a member of this conversation');
  const members = deps.authorizer.directMembers?.(conversationId);
  return members && isDirectPair(conversationId, members) ? { members } : {};
}

function produce(deps: RouterDeps, records: OutgoingRecord[]): Promise<void> {
  return withSpan('kafka.produce parley.messages', { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': deps.messagesTopic, 'messaging.batch.message_count': records.length } }, () =>
    deps.bus.publish(deps.messagesTopic, records),
  );
}

export async function routeSend(deps: RouterDeps, req: SendRequest__Output, principal: Principal): Promise<SendResponse> {
  const senderDeviceId = checkSender(deps, principal, req.senderId, req.senderDeviceId, req.conversationId);
  requireId(req.conversationId, 'conversation_id');
  requireId(req.clientMsgId, 'client_msg_id');
  const body = checkBody(req.body, deps.maxBodyBytes);
  admitSend(deps.limiter, req.senderId);
  const direct = await authorize(deps, req.conversationId, req.senderId);
  const serverMsgId = serverMsgIdFor(req.conversationId, req.senderId, req.clientMsgId);
  const sentAt = (deps.now ?? Date.now)();
  const message = { serverMsgId, conversationId: req.conversationId, senderId: req.senderId, senderDeviceId, clientMsgId: req.clientMsgId, body, sentAt };
  await produce(deps, [messagesRecords.record({ kind: 'message', message, ...direct }, injectTraceContext({}))]);
  return { serverMsgId, seq: 0, sentAt };
}

/**
 * A device's pipelined sends to one conversation, in its order, as records to produce:
 * items that fail validation or the rate limit are answered one by one; the others are
 * records. Throws for what refuses the whole batch (bad ids, not a member).
 */
async function batchRecords(deps: RouterDeps, req: SendBatchRequest__Output, principal: Principal, trace: Record<string, string>): Promise<{ results: SendItemResult[]; records: OutgoingRecord[] }> {
  const senderDeviceId = checkSender(deps, principal, req.senderId, req.senderDeviceId, req.conversationId);
  requireId(req.conversationId, 'conversation_id');
  if (req.items.length === 0 || req.items.length > MAX_BATCH_ITEMS) throw new ParleyError('INVALID_ARGUMENT', `a batch holds 1..${MAX_BATCH_ITEMS} items`);
  const direct = await authorize(deps, req.conversationId, req.senderId);
  const sentAt = (deps.now ?? Date.now)();
  const results: SendItemResult[] = [];
  const records: OutgoingRecord[] = [];
  for (const item of req.items) {
    try {
      requireId(item.clientMsgId, 'client_msg_id');
      const body = checkBody(item.body, deps.maxBodyBytes);
      admitSend(deps.limiter, req.senderId);
      const serverMsgId = serverMsgIdFor(req.conversationId, req.senderId, item.clientMsgId);
      records.push(
        messagesRecords.record(
          { kind: 'message', message: { serverMsgId, conversationId: req.conversationId, senderId: req.senderId, senderDeviceId, clientMsgId: item.clientMsgId, body, sentAt }, ...direct },
          { ...trace },
        ),
      );
      results.push({ clientMsgId: item.clientMsgId, serverMsgId, sentAt, errorCode: '', errorMessage: '', retryable: false, retryAfterMs: 0 });
    } catch (err) {
      const error = asParleyError(err);
      results.push({ clientMsgId: item.clientMsgId, serverMsgId: '', sentAt: 0, errorCode: error.code, errorMessage: error.message, retryable: error.retryable, retryAfterMs: error.retryAfterMs ?? 0 });
    }
  }
  return { results, records };
}

/**
 * A device's pipelined sends to one conversation, in its order, in one produce: they reach
 * the conversation's partition in the order given. Items that fail validation or the rate
 * limit are answered one by one; the others are made durable together or not at all.
 */
export async function routeSendBatch(deps: RouterDeps, req: SendBatchRequest__Output, principal: Principal): Promise<SendBatchResponse> {
  const { results, records } = await batchRecords(deps, req, principal, injectTraceContext({}));
  if (records.length > 0) await produce(deps, records);
  return { results };
}

/** Most batches, and items in all, one SendMany may carry. */
export const MAX_MANY_BATCHES = 256;
export const MAX_MANY_ITEMS = 1_024;

/**
 * Several devices' batches in one call and one produce (a connector's ready batches): each
 * batch is checked on its own and answered on its own; the records of all that passed are
 * made durable together or not at all. Each conversation's records keep the order given.
 */
export async function routeSendMany(deps: RouterDeps, req: SendManyRequest__Output, principal: Principal): Promise<SendManyResponse> {
  if (req.batches.length > MAX_MANY_BATCHES || req.batches.reduce((n, b) => n + b.items.length, 0) > MAX_MANY_ITEMS) {
    throw new ParleyError('INVALID_ARGUMENT', `a call holds at most ${MAX_MANY_BATCHES} batches and ${MAX_MANY_ITEMS} items`);
  }
  const trace = injectTraceContext({});
  const checked = await Promise.all(req.batches.map((b) => batchRecords(deps, b, principal, trace).then((ok) => ({ ok }), (err: unknown) => ({ error: asParleyError(err) }))));
  const records = checked.flatMap((c) => ('ok' in c ? c.ok.records : []));
  if (records.length > 0) await produce(deps, records);
  return {
    results: checked.map((c) =>
      'ok' in c ? { response: { results: c.ok.results }, errorCode: '', errorMessage: '', retryable: false } : { errorCode: c.error.code, errorMessage: c.error.message, retryable: c.error.retryable },
    ),
  };
}
