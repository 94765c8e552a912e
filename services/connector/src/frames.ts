// Owns the client wire format at the edge: every byte from a socket is parsed and
// validated here into a typed frame (or a typed error); every frame we write is
// built here. The shapes are the messages of proto/parley/v1/client.proto.
import { z } from 'zod';
import { ID_PATTERN, ParleyError, unstorableText } from '@parley/core';
import type {
  AckFrame,
  AuthFrame,
  AuthedFrame,
  ConvListFrame,
  ConvState,
  ConversationState__Output,
  ConvsFrame,
  ErrorFrame,
  HistoryFrame,
  MsgFrame,
  ReadFrame,
  Receipt,
  ReceiptFrame,
  RejectedFrame,
  Rejection,
  RecvFrame,
  SendFrame,
  SigFrame,
  Signal,
  SignalFrame,
  StoredMessage,
  SyncFrame,
  WelcomeFrame,
} from '@parley/proto';

const id = z.string().regex(ID_PATTERN, 'must match [A-Za-z0-9_.:@-]{1,128}');
const reqId = z.string().max(128).optional();
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
// A large limit is capped, not refused (the server then caps it to MAX_PAGE_SIZE); a bad one is refused.
const limit = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform((v) => Math.min(v, 10_000)).optional();

// A body is checked here (so a bad one costs no round trip) and again by the router (the edge of internal callers).
const storable = z.string().superRefine((v, ctx) => {
  const problem = unstorableText(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const sendSchema = z.object({ type: z.literal('send'), clientMsgId: id, conversationId: id, body: storable });
const syncSchema = z.object({ type: z.literal('sync'), reqId, conversationId: id, afterSeq: seq.default(0), limit });
const historySchema = z.object({
  type: z.literal('history'),
  reqId,
  conversationId: id,
  fromSeq: seq.optional(),
  toSeq: seq.optional(),
  order: z.enum(['newest_first', 'oldest_first']).optional(),
  limit,
});

// Compile-time only: each accepted frame is assignable to its client.proto message,
// so a field renamed in proto/ breaks the build here.
type Required2<T> = { [K in keyof T]-?: NonNullable<T[K]> };
export const asProtoFrame = {
  send: (f: z.infer<typeof sendSchema>): SendFrame => f,
  sync: (f: z.infer<typeof syncSchema>): SyncFrame => f,
  history: (f: z.infer<typeof historySchema>): HistoryFrame => f,
};

const positionSeq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const recvSchema = z.object({ type: z.literal('recv'), conversationId: id, seq: positionSeq });
const readSchema = z.object({ type: z.literal('read'), conversationId: id, seq: positionSeq });
const signalSchema = z.object({
  type: z.literal('signal'),
  conversationId: id,
  kind: z.string().regex(/^[a-z0-9_.-]{1,32}$/, 'must match [a-z0-9_.-]{1,32}'),
  data: storable
    .refine((v) => Buffer.byteLength(v, 'utf8') <= 1024, 'must be at most 1024 bytes')
    .default(''),
});
const pingSchema = z.object({ type: z.literal('ping'), reqId });
// A token is checked by the verifier; here only its size (the verifier refuses longer ones too).
const authSchema = z.object({ type: z.literal('auth'), reqId, token: z.string().min(1).max(8192) });
const convsSchema = z.object({ type: z.literal('convs'), reqId, afterConversationId: z.union([id, z.literal('')]).default(''), limit });

export const asProtoPositionFrame = {
  recv: (f: z.infer<typeof recvSchema>): RecvFrame => f,
  read: (f: z.infer<typeof readSchema>): ReadFrame => f,
  signal: (f: z.infer<typeof signalSchema>): SignalFrame => f,
  convs: (f: z.infer<typeof convsSchema>): ConvsFrame => f,
  auth: (f: z.infer<typeof authSchema>): AuthFrame => f,
};

export type ClientFrame =
  | z.infer<typeof sendSchema>
  | z.infer<typeof syncSchema>
  | z.infer<typeof historySchema>
  | z.infer<typeof recvSchema>
  | z.infer<typeof readSchema>
  | z.infer<typeof signalSchema>
  | z.infer<typeof convsSchema>
  | z.infer<typeof pingSchema>
  | z.infer<typeof authSchema>;

const schemas = { send: sendSchema, sync: syncSchema, history: historySchema, recv: recvSchema, read: readSchema, signal: signalSchema, convs: convsSchema, ping: pingSchema, auth: authSchema } as const;

/** Correlation ids that can be recovered from a frame that failed validation. */
export interface FrameRefs {
  clientMsgId?: string;
  reqId?: string;
}

export class FrameError extends ParleyError {
  constructor(
    code: 'BAD_FRAME' | 'UNKNOWN_FRAME_TYPE' | 'INVALID_ARGUMENT',
    message: string,
    readonly refs: FrameRefs,
  ) {
    super(code, message, { retryable: false });
  }
}

export function parseClientFrame(data: string): ClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new FrameError('BAD_FRAME', 'frame is not valid JSON', {});
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FrameError('BAD_FRAME', 'frame must be a JSON object', {});
  const record = value as Record<string, unknown>;
  const refs: FrameRefs = {};
  if (typeof record['clientMsgId'] === 'string' && record['clientMsgId'].length <= 128) refs.clientMsgId = record['clientMsgId'];
  if (typeof record['reqId'] === 'string' && record['reqId'].length <= 128) refs.reqId = record['reqId'];
  const type = record['type'];
  if (typeof type !== 'string') throw new FrameError('BAD_FRAME', 'frame has no "type"', refs);
  if (!Object.hasOwn(schemas, type)) throw new FrameError('UNKNOWN_FRAME_TYPE', `unknown frame type "${type.slice(0, 32)}"`, refs);
  const result = schemas[type as keyof typeof schemas].safeParse(record);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new FrameError('INVALID_ARGUMENT', `${issue?.path.join('.') || type}: ${issue?.message ?? 'invalid'}`, refs);
  }
  return result.data;
}

export function welcomeFrame(w: Required2<WelcomeFrame>): string {
  return JSON.stringify({ type: 'welcome', ...w });
}

export function ackFrame(a: Required2<Pick<AckFrame, 'clientMsgId' | 'serverMsgId'>> & { seq?: number }): string {
  return JSON.stringify({ type: 'ack', clientMsgId: a.clientMsgId, serverMsgId: a.serverMsgId, ...(a.seq ? { seq: a.seq } : {}) });
}

export function toMsg(m: StoredMessage): Required2<MsgFrame> {
  return {
    conversationId: m.conversationId ?? '',
    seq: Number(m.seq ?? 0),
    serverMsgId: m.serverMsgId ?? '',
    senderId: m.senderId ?? '',
    senderDeviceId: m.senderDeviceId ?? '',
    clientMsgId: m.clientMsgId ?? '',
    body: m.body ?? '',
    sentAt: Number(m.sentAt ?? 0),
  };
}

export function msgFrame(m: StoredMessage): string {
  return JSON.stringify({ type: 'msg', ...toMsg(m) });
}

/**
 * A msgs frame of at most maxBytes (UTF-8): the longest prefix of the page that fits, at least
 * one message, with hasMore set when messages were left out (the client asks again from the
 * last seq it got, in either order). Keeps one sync or history answer from filling a socket's
 * buffer: 500 messages of 16 KiB would be one 8 MB frame.
 */
export function msgsFrame(f: { reqId?: string | undefined; conversationId: string; messages: StoredMessage[]; hasMore: boolean }, maxBytes = Number.POSITIVE_INFINITY): string {
  const head = JSON.stringify({ type: 'msgs', ...(f.reqId ? { reqId: f.reqId } : {}), conversationId: f.conversationId, messages: [] });
  let bytes = Buffer.byteLength(head) + 20; // + ',"hasMore":false'
  const parts: string[] = [];
  for (const m of f.messages) {
    const part = JSON.stringify(toMsg(m));
    const size = Buffer.byteLength(part) + 1;
    if (parts.length > 0 && bytes + size > maxBytes) break;
    parts.push(part);
    bytes += size;
  }
  const hasMore = f.hasMore || parts.length < f.messages.length;
  return `${head.slice(0, -3)}[${parts.join(',')}],"hasMore":${hasMore}}`;
}

/** An error frame; retryAfterMs (a rate limit's wait) only when there is one. */
export function errorFrame(e: { code: string; message: string; retryable: boolean; retryAfterMs?: number | undefined } & FrameRefs): string {
  const frame: ErrorFrame & { type: 'error' } = {
    type: 'error',
    ...(e.clientMsgId ? { clientMsgId: e.clientMsgId } : {}),
    ...(e.reqId ? { reqId: e.reqId } : {}),
    code: e.code,
    message: e.message,
    retryable: e.retryable,
    ...(e.retryAfterMs !== undefined && e.retryAfterMs > 0 ? { retryAfterMs: Math.ceil(e.retryAfterMs) } : {}),
  };
  return JSON.stringify(frame);
}

export function rejectedFrame(r: Rejection): string {
  const frame: Required2<RejectedFrame> & { type: 'rejected' } = {
    type: 'rejected',
    clientMsgId: r.clientMsgId ?? '',
    conversationId: r.conversationId ?? '',
    serverMsgId: r.serverMsgId ?? '',
    code: r.code ?? '',
    message: r.reason ?? '',
  };
  return JSON.stringify(frame);
}

export function receiptFrame(r: Receipt): string {
  const frame: Required2<ReceiptFrame> & { type: 'receipt' } = {
    type: 'receipt',
    conversationId: r.conversationId ?? '',
    userId: r.userId ?? '',
    deviceId: r.deviceId ?? '',
    kind: r.kind ?? '',
    seq: Number(r.seq ?? 0),
  };
  return JSON.stringify(frame);
}

export function sigFrame(s: Signal): string {
  const frame: Required2<SigFrame> & { type: 'sig' } = {
    type: 'sig',
    conversationId: s.conversationId ?? '',
    senderId: s.senderId ?? '',
    senderDeviceId: s.senderDeviceId ?? '',
    kind: s.kind ?? '',
    data: s.data ?? '',
    sentAt: Number(s.sentAt ?? 0),
  };
  return JSON.stringify(frame);
}

export function convListFrame(f: { reqId?: string | undefined; conversations: ConversationState__Output[]; hasMore: boolean }): string {
  const conversations: Required2<ConvState>[] = f.conversations.map((c) => ({
    conversationId: c.conversationId,
    kind: c.kind === 'CONVERSATION_KIND_DIRECT' ? 'direct' : 'group',
    lastSeq: Number(c.lastSeq),
    deliveredSeq: Number(c.deliveredSeq),
    readSeq: Number(c.readSeq),
    unread: Number(c.unread),
    memberCount: Number(c.memberCount),
  }));
  const frame: ConvListFrame & { type: 'convlist' } = { type: 'convlist', ...(f.reqId ? { reqId: f.reqId } : {}), conversations, hasMore: f.hasMore };
  return JSON.stringify(frame);
}

export function authedFrame(a: { reqId?: string | undefined; expiresAt: number }): string {
  const frame: AuthedFrame = { ...(a.reqId ? { reqId: a.reqId } : {}), expiresAt: a.expiresAt };
  return JSON.stringify({ type: 'authed', ...frame });
}

export function pongFrame(reqId: string | undefined, serverTime: number): string {
  return JSON.stringify({ type: 'pong', ...(reqId ? { reqId } : {}), serverTime });
}
