// Owns the wire format at the SDK's edge: every server frame is validated here into a typed
// value before the client looks at it, and every client frame is built here. Shapes follow
// proto/parley/v1/client.proto in proto3 JSON form, so fields holding their default value
// (0, "", false) may be absent and 64-bit integers may arrive as numbers or decimal strings.
import { RETRYABLE_CODES } from './errors';
import type { ConvState, ParleyMessage, ParleyReceipt, ParleyRejection, ParleySignal } from './types';

export interface WelcomeFrame {
  type: 'welcome';
  userId: string;
  deviceId: string;
  sessionId: string;
  connectorId: string;
  serverTime: number;
  maxFrameBytes: number;
}
export interface AckFrame {
  type: 'ack';
  clientMsgId: string;
  serverMsgId: string;
  seq: number;
}
export interface MsgFrame {
  type: 'msg';
  message: ParleyMessage;
}
export interface MsgsFrame {
  type: 'msgs';
  reqId: string;
  conversationId: string;
  messages: ParleyMessage[];
  hasMore: boolean;
}
export interface ErrorFrame {
  type: 'error';
  clientMsgId: string;
  reqId: string;
  code: string;
  message: string;
  retryable: boolean;
  /** A rate limit's wait before a resend can be admitted, in ms (0: none said). */
  retryAfterMs: number;
}
export interface ReceiptFrame {
  type: 'receipt';
  receipt: ParleyReceipt;
}
export interface SigFrame {
  type: 'sig';
  signal: ParleySignal;
}
export interface ConvListFrame {
  type: 'convlist';
  reqId: string;
  conversations: ConvState[];
  hasMore: boolean;
}

export interface RejectedFrame {
  type: 'rejected';
  rejection: ParleyRejection;
}

export interface PongFrame {
  type: 'pong';
  reqId: string;
  serverTime: number;
}

export type ServerFrame = WelcomeFrame | AckFrame | MsgFrame | MsgsFrame | ErrorFrame | ReceiptFrame | SigFrame | ConvListFrame | PongFrame | RejectedFrame;

export type ClientFrame =
  | { type: 'send'; clientMsgId: string; conversationId: string; body: string }
  | { type: 'sync'; reqId: string; conversationId: string; afterSeq: number; limit: number }
  | { type: 'convs'; reqId: string; limit: number; afterConversationId?: string }
  | { type: 'recv'; conversationId: string; seq: number }
  | { type: 'read'; conversationId: string; seq: number }
  | { type: 'signal'; conversationId: string; kind: string; data: string }
  | { type: 'ping'; reqId: string };

export class FrameDecodeError extends Error {
  override readonly name = 'FrameDecodeError';
}

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(f: Fields, key: string, required = false): string {
  const value = f[key];
  if (value === undefined || value === null) {
    if (required) throw new FrameDecodeError(`${key}: required`);
    return '';
  }
  if (typeof value !== 'string') throw new FrameDecodeError(`${key}: expected a string`);
  if (required && value === '') throw new FrameDecodeError(`${key}: must not be empty`);
  return value;
}

/** A non-negative safe integer (int64 fields may come as JSON numbers or decimal strings). */
function int(f: Fields, key: string): number {
  const value = f[key];
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new FrameDecodeError(`${key}: expected a non-negative integer`);
  return n;
}

function bool(f: Fields, key: string): boolean {
  const value = f[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new FrameDecodeError(`${key}: expected a boolean`);
  return value;
}

function list(f: Fields, key: string): Fields[] {
  const value = f[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FrameDecodeError(`${key}: expected an array`);
  return value.map((item, i) => {
    if (!isObject(item)) throw new FrameDecodeError(`${key}[${i}]: expected an object`);
    return item;
  });
}

function message(f: Fields, conversationId?: string): ParleyMessage {
  const seq = int(f, 'seq');
  if (seq < 1) throw new FrameDecodeError('seq: must be at least 1');
  const own = str(f, 'conversationId');
  if (!own && !conversationId) throw new FrameDecodeError('conversationId: required');
  if (own && conversationId && own !== conversationId) throw new FrameDecodeError('conversationId: differs from the page');
  return {
    conversationId: own || (conversationId ?? ''),
    seq,
    serverMsgId: str(f, 'serverMsgId'),
    senderId: str(f, 'senderId'),
    senderDeviceId: str(f, 'senderDeviceId'),
    clientMsgId: str(f, 'clientMsgId'),
    body: str(f, 'body'),
    sentAt: int(f, 'sentAt'),
  };
}

/**
 * Decodes one text frame. Returns undefined for a frame type this SDK does not know (a newer
 * server may add some); throws FrameDecodeError for a frame it knows but cannot accept.
 */
export function decodeServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameDecodeError('frame is not valid JSON');
  }
  if (!isObject(value)) throw new FrameDecodeError('frame is not a JSON object');
  const f = value;
  switch (f['type']) {
    case 'welcome':
      return {
        type: 'welcome',
        userId: str(f, 'userId'),
        deviceId: str(f, 'deviceId'),
        sessionId: str(f, 'sessionId'),
        connectorId: str(f, 'connectorId'),
        serverTime: int(f, 'serverTime'),
        maxFrameBytes: int(f, 'maxFrameBytes'),
      };
    case 'ack':
      return { type: 'ack', clientMsgId: str(f, 'clientMsgId', true), serverMsgId: str(f, 'serverMsgId'), seq: int(f, 'seq') };
    case 'msg':
      return { type: 'msg', message: message(f) };
    case 'msgs': {
      const conversationId = str(f, 'conversationId', true);
      return {
        type: 'msgs',
        reqId: str(f, 'reqId'),
        conversationId,
        messages: list(f, 'messages').map((m) => message(m, conversationId)),
        hasMore: bool(f, 'hasMore'),
      };
    }
    case 'error': {
      const code = str(f, 'code') || 'INTERNAL';
      // PROTOCOL.md §4: the frame's retryable wins over the code table; without one, the table decides.
      const retryable = f['retryable'] === undefined || f['retryable'] === null ? RETRYABLE_CODES.has(code) : bool(f, 'retryable');
      return { type: 'error', clientMsgId: str(f, 'clientMsgId'), reqId: str(f, 'reqId'), code, message: str(f, 'message'), retryable, retryAfterMs: int(f, 'retryAfterMs') };
    }
    case 'receipt': {
      const kind = str(f, 'kind');
      if (kind !== 'delivered' && kind !== 'read') throw new FrameDecodeError(`kind: unknown receipt kind "${kind.slice(0, 32)}"`);
      return { type: 'receipt', receipt: { conversationId: str(f, 'conversationId', true), userId: str(f, 'userId'), deviceId: str(f, 'deviceId'), kind, seq: int(f, 'seq') } };
    }
    case 'sig':
      return {
        type: 'sig',
        signal: {
          conversationId: str(f, 'conversationId', true),
          senderId: str(f, 'senderId'),
          senderDeviceId: str(f, 'senderDeviceId'),
          kind: str(f, 'kind'),
          data: str(f, 'data'),
          sentAt: int(f, 'sentAt'),
        },
      };
    case 'pong':
      return { type: 'pong', reqId: str(f, 'reqId'), serverTime: int(f, 'serverTime') };
    case 'rejected':
      return {
        type: 'rejected',
        rejection: { conversationId: str(f, 'conversationId', true), clientMsgId: str(f, 'clientMsgId', true), serverMsgId: str(f, 'serverMsgId'), code: str(f, 'code') || 'PERMISSION_DENIED', message: str(f, 'message') },
      };
    case 'convlist':
      return {
        type: 'convlist',
        reqId: str(f, 'reqId'),
        conversations: list(f, 'conversations').map((c) => ({
          conversationId: str(c, 'conversationId', true),
          kind: str(c, 'kind'),
          lastSeq: int(c, 'lastSeq'),
          deliveredSeq: int(c, 'deliveredSeq'),
          readSeq: int(c, 'readSeq'),
          unread: int(c, 'unread'),
          memberCount: int(c, 'memberCount'),
        })),
        hasMore: bool(f, 'hasMore'),
      };
    default:
      if (typeof f['type'] !== 'string') throw new FrameDecodeError('frame has no "type"');
      return undefined;
  }
}

export function encodeClientFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}
