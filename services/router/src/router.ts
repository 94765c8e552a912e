// Owns the Send decision: validate, rate-limit, authorize, make durable, answer.
import type { MessageBus } from '@parley/bus';
import { ParleyError, SpanKind, injectTraceContext, isValidId, serverMsgIdFor, withSpan } from '@parley/core';
import type { AcceptedMessage, SendRequest__Output, SendResponse, StoredMessage } from '@parley/proto';
import type { TokenBuckets } from './rate-limit';

export interface SendAuthorizer {
  /** Throws NOT_FOUND for an unknown conversation; returns the stored message when it already exists. */
  check(conversationId: string, userId: string, serverMsgId: string): Promise<{ member: boolean; existing?: StoredMessage | null | undefined }>;
}

export interface RouterDeps {
  bus: MessageBus;
  messagesTopic: string;
  authorizer: SendAuthorizer;
  limiter: TokenBuckets;
  maxBodyBytes: number;
  now?: () => number;
}

function requireId(value: string, field: string): void {
  if (!isValidId(value)) throw new ParleyError('INVALID_ARGUMENT', `${field} must match [A-Za-z0-9_.:@-]{1,128}`);
}

export async function routeSend(deps: RouterDeps, req: SendRequest__Output): Promise<SendResponse> {
  requireId(req.senderId, 'sender_id');
  requireId(req.senderDeviceId, 'sender_device_id');
  requireId(req.conversationId, 'conversation_id');
  requireId(req.clientMsgId, 'client_msg_id');
  if (typeof req.body !== 'string' || req.body.length === 0) throw new ParleyError('INVALID_ARGUMENT', 'body must not be empty');
  if (Buffer.byteLength(req.body, 'utf8') > deps.maxBodyBytes) throw new ParleyError('INVALID_ARGUMENT', `body is larger than ${deps.maxBodyBytes} bytes`);
  if (!deps.limiter.take(req.senderId)) throw new ParleyError('RESOURCE_EXHAUSTED', 'sending too fast; slow down and retry');

  const serverMsgId = serverMsgIdFor(req.conversationId, req.senderId, req.clientMsgId);
  const { member, existing } = await deps.authorizer.check(req.conversationId, req.senderId, serverMsgId);
  if (!member) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
  if (existing) {
    // A resend of a message already stored: same answer as the first time, nothing new written.
    return { serverMsgId, seq: existing.seq ?? 0, sentAt: existing.sentAt ?? 0 };
  }
  const sentAt = (deps.now ?? Date.now)();
  const accepted: AcceptedMessage = {
    serverMsgId,
    conversationId: req.conversationId,
    senderId: req.senderId,
    senderDeviceId: req.senderDeviceId,
    clientMsgId: req.clientMsgId,
    body: req.body,
    sentAt,
  };
  await withSpan('kafka.produce parley.messages', { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': deps.messagesTopic } }, () =>
    deps.bus.publish(deps.messagesTopic, [{ key: req.conversationId, value: JSON.stringify(accepted), headers: injectTraceContext({}) }]),
  );
  return { serverMsgId, seq: 0, sentAt };
}
