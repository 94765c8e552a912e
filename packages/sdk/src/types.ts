// The public shapes of the SDK: what the app receives and what it plugs in. Self-contained
// on purpose (no @parley/proto import) so the SDK ships with no dependencies; the field names
// are those of proto/parley/v1/client.proto in their JSON form.

export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * Whether a sender id is a bot's (a service an admin allowed into the conversation) rather
 * than a person's: Parley reserves the `bot:` prefix, so no user can have such an id.
 */
export function isBotSender(senderId: string): boolean {
  return senderId.startsWith('bot:');
}

/** One chat message (a `msg` frame, or an element of a `msgs` page). */
export interface ParleyMessage {
  conversationId: string;
  seq: number;
  serverMsgId: string;
  senderId: string;
  senderDeviceId: string;
  clientMsgId: string;
  body: string;
  sentAt: number;
}

export interface ParleyReceipt {
  conversationId: string;
  userId: string;
  deviceId: string;
  kind: 'delivered' | 'read';
  seq: number;
}

export interface ParleySignal {
  conversationId: string;
  senderId: string;
  senderDeviceId: string;
  kind: string;
  data: string;
  sentAt: number;
}

export interface ParleyWelcome {
  userId: string;
  deviceId: string;
  sessionId: string;
  connectorId: string;
}

/** One conversation of the user with its positions (an element of `convlist`). */
export interface ConvState {
  conversationId: string;
  /** "direct" or "group". */
  kind: string;
  lastSeq: number;
  deliveredSeq: number;
  readSeq: number;
  unread: number;
  memberCount: number;
}

export interface SendResult {
  clientMsgId: string;
  serverMsgId: string;
  /** Present only when the server already knew it (the ack of a resend of a stored message). */
  seq?: number;
}

/**
 * The part of the WHATWG WebSocket the SDK uses. The browser's WebSocket, Node's global
 * WebSocket and the `ws` package all fit. Method syntax keeps the listener parameters
 * bivariant, so their richer event types are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
  /** `ws` only: lets server pings count as liveness (browsers do not expose pings). */
  on?(event: 'ping', listener: () => void): unknown;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/**
 * A message this client sent and the server acked (durable in Kafka) that was then refused
 * by storage: its sender was no longer a member when it reached the conversation's stream
 * (PERMISSION_DENIED), or the conversation is gone (NOT_FOUND). It never gets a seq.
 */
export interface ParleyRejection {
  conversationId: string;
  clientMsgId: string;
  serverMsgId: string;
  code: string;
  message: string;
}
