// Owns the format of every Kafka record Parley writes: per topic its name, its key, its
// encoding and its validate-and-decode, so producers and consumers import one definition
// instead of spelling fields and validators again (socket.io's cluster adapter keeps one
// typed message union and one codec the same way). The shapes are the *Record messages of
// proto/parley/v1/common.proto, in their proto3 JSON form.
//
// Versions: every record carries `v` (RECORD_VERSION). A consumer accepts its own version
// and the next one (a next version may only add fields, which this decoder ignores), so
// two releases run side by side during a rolling upgrade; records written before
// versioning (no `v`, flat payloads) still decode. Anything else is a RecordFormatError:
// permanent, so the consumer parks the record in parley.dlq instead of retrying it.
import { ParleyError, isValidId, serverMsgIdFor } from '@parley/core';
import type { AcceptedMessage, MembershipChange, Receipt, Rejection, Signal, StoredMessage } from '@parley/proto';
import type { OutgoingRecord } from './port';
import type { TopicNames } from './topics';

export const RECORD_VERSION = 1;
/** The newest version this code decodes: its own and the next. */
export const MAX_READABLE_VERSION = RECORD_VERSION + 1;
/** Upper bound of one encoded record (the broker refuses more than 1 MiB per request). */
export const MAX_RECORD_BYTES = 256 * 1024;
/** A membership change for more users is split into several records. */
export const MAX_MEMBERSHIP_IDS_PER_RECORD = 1_000;

/** A record that can never be processed as it is: the consumer parks it in the dead-letter topic. */
export class RecordFormatError extends ParleyError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message, { retryable: false });
    this.name = 'RecordFormatError';
  }
}

// ---------------------------------------------------------------- payload types (validated)
export type ValidAccepted = Required<Pick<AcceptedMessage, 'serverMsgId' | 'conversationId' | 'senderId' | 'senderDeviceId' | 'clientMsgId' | 'body'>> & { sentAt: number };
export type ValidStored = ValidAccepted & { seq: number };
export interface ValidMembershipChange {
  conversationId: string;
  change: 'added' | 'removed';
  userIds: string[];
  at: number;
}
export interface ValidReceipt {
  conversationId: string;
  userId: string;
  deviceId: string;
  kind: 'delivered' | 'read';
  seq: number;
  at: number;
}
export interface ValidSignal {
  conversationId: string;
  senderId: string;
  senderDeviceId: string;
  kind: string;
  data: string;
  sentAt: number;
}
export interface ValidRejection {
  conversationId: string;
  serverMsgId: string;
  clientMsgId: string;
  senderId: string;
  senderDeviceId: string;
  code: 'PERMISSION_DENIED' | 'NOT_FOUND';
  reason: string;
}

/** parley.messages: a message to sequence, or a membership change to apply in order with them. */
export type MessagesEntry = { kind: 'message'; message: ValidAccepted; members?: string[] } | { kind: 'membership'; change: ValidMembershipChange };
/** parley.deliveries: what push fans out, in the conversation's order. */
export type DeliveriesEntry =
  | { kind: 'message'; message: ValidStored; members?: string[] }
  | { kind: 'receipt'; receipt: ValidReceipt }
  | { kind: 'membership'; change: ValidMembershipChange }
  | { kind: 'rejected'; rejection: ValidRejection };
export type ReceiptsEntry = { kind: 'receipt'; receipt: ValidReceipt };
export type SignalsEntry = { kind: 'signal'; signal: ValidSignal };
export type MembershipEntry = { kind: 'membership'; change: ValidMembershipChange };

// ---------------------------------------------------------------- validators
type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RecordFormatError(`${what} is not an object`);
  return value as Json;
}

function id(o: Json, field: string): string {
  const value = o[field];
  if (!isValidId(value)) throw new RecordFormatError(`${field} is not a valid id`);
  return value;
}

function str(o: Json, field: string, max = Number.MAX_SAFE_INTEGER): string {
  const value = o[field];
  if (typeof value !== 'string' || value.length > max) throw new RecordFormatError(`${field} is not a string`);
  return value;
}

function int(o: Json, field: string, min: number): number {
  const value = o[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new RecordFormatError(`${field} is not an integer >= ${min}`);
  return value;
}

/**
 * A time a record may leave out (receipts' `at`, signals' `sentAt`): 0 when absent, and when it
 * is not a millisecond count (JSON reads 1e400 as Infinity; a negative or fractional time would
 * reach clients as it is). Such a field never made a record unusable, so it does not now.
 */
function optionalTime(o: Json, field: string): number {
  const value = o[field];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function accepted(value: unknown): ValidAccepted {
  const o = object(value, 'message');
  const m: ValidAccepted = {
    serverMsgId: str(o, 'serverMsgId', 64),
    conversationId: id(o, 'conversationId'),
    senderId: id(o, 'senderId'),
    senderDeviceId: id(o, 'senderDeviceId'),
    clientMsgId: id(o, 'clientMsgId'),
    body: str(o, 'body'),
    sentAt: int(o, 'sentAt', 0),
  };
  if (m.serverMsgId !== serverMsgIdFor(m.conversationId, m.senderId, m.clientMsgId)) throw new RecordFormatError('serverMsgId does not match (conversationId, senderId, clientMsgId)');
  return m;
}

function stored(value: unknown): ValidStored {
  const o = object(value, 'message');
  return {
    serverMsgId: str(o, 'serverMsgId', 64),
    conversationId: id(o, 'conversationId'),
    seq: int(o, 'seq', 1),
    senderId: id(o, 'senderId'),
    senderDeviceId: id(o, 'senderDeviceId'),
    clientMsgId: id(o, 'clientMsgId'),
    body: str(o, 'body'),
    sentAt: int(o, 'sentAt', 0),
  };
}

function membership(value: unknown): ValidMembershipChange {
  const o = object(value, 'membership');
  const change = o['change'];
  if (change !== 'added' && change !== 'removed') throw new RecordFormatError('change must be "added" or "removed"');
  const userIds = o['userIds'];
  if (!Array.isArray(userIds) || userIds.length === 0 || userIds.length > MAX_MEMBERSHIP_IDS_PER_RECORD || !userIds.every(isValidId)) {
    throw new RecordFormatError(`userIds must be 1..${MAX_MEMBERSHIP_IDS_PER_RECORD} valid ids`);
  }
  return { conversationId: id(o, 'conversationId'), change, userIds: userIds as string[], at: int(o, 'at', 0) };
}

function receipt(value: unknown): ValidReceipt {
  const o = object(value, 'receipt');
  const kind = o['kind'];
  if (kind !== 'delivered' && kind !== 'read') throw new RecordFormatError('kind must be "delivered" or "read"');
  return { conversationId: id(o, 'conversationId'), userId: id(o, 'userId'), deviceId: id(o, 'deviceId'), kind, seq: int(o, 'seq', 1), at: optionalTime(o, 'at') };
}

const SIGNAL_KIND = /^[a-z0-9_.-]{1,32}$/;

function signal(value: unknown): ValidSignal {
  const o = object(value, 'signal');
  const kind = str(o, 'kind', 32);
  if (!SIGNAL_KIND.test(kind)) throw new RecordFormatError('kind must match [a-z0-9_.-]{1,32}');
  return {
    conversationId: id(o, 'conversationId'),
    senderId: id(o, 'senderId'),
    senderDeviceId: id(o, 'senderDeviceId'),
    kind,
    data: typeof o['data'] === 'string' ? (o['data'] as string) : '',
    sentAt: optionalTime(o, 'sentAt'),
  };
}

function rejection(value: unknown): ValidRejection {
  const o = object(value, 'rejected');
  const code = o['code'];
  if (code !== 'PERMISSION_DENIED' && code !== 'NOT_FOUND') throw new RecordFormatError('code must be PERMISSION_DENIED or NOT_FOUND');
  return {
    conversationId: id(o, 'conversationId'),
    serverMsgId: str(o, 'serverMsgId', 64),
    clientMsgId: id(o, 'clientMsgId'),
    senderId: id(o, 'senderId'),
    senderDeviceId: id(o, 'senderDeviceId'),
    code,
    reason: typeof o['reason'] === 'string' ? (o['reason'] as string).slice(0, 200) : '',
  };
}

/**
 * A direct conversation's two members (a hint that lets consumers skip a lookup): exactly
 * two valid ids, or nothing. Whether the pair matches the conversation is the consumer's
 * check (isDirectPair); a malformed hint is dropped, never fatal to the record.
 */
function members(value: unknown): { members: string[] } | Record<string, never> {
  return Array.isArray(value) && value.length === 2 && value.every(isValidId) ? { members: value as string[] } : {};
}

// ---------------------------------------------------------------- envelopes
/** Parses the JSON and checks the version; undefined version = a record from before versioning. */
function envelope(raw: Buffer): { o: Json; legacy: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RecordFormatError('record is not JSON');
  }
  const o = object(value, 'record');
  const v = o['v'];
  if (v === undefined) return { o, legacy: true };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RecordFormatError('v must be a positive integer');
  if (v > MAX_READABLE_VERSION) throw new RecordFormatError(`record format version ${v} is newer than this consumer reads (${MAX_READABLE_VERSION}); replay it after the upgrade`);
  return { o, legacy: false };
}

function encode(payload: Json): string {
  const value = JSON.stringify({ v: RECORD_VERSION, ...payload });
  if (value.length > MAX_RECORD_BYTES / 4 && Buffer.byteLength(value) > MAX_RECORD_BYTES) {
    throw new ParleyError('INVALID_ARGUMENT', `record of ${Buffer.byteLength(value)} bytes is larger than ${MAX_RECORD_BYTES}`, { retryable: false });
  }
  return value;
}

export interface RecordFormat<E> {
  /** Which of Parley's topics (topicNames(prefix)[topic]). */
  readonly topic: keyof TopicNames;
  key(entry: E): string;
  encode(entry: E): string;
  /** Validates and decodes; throws RecordFormatError for anything it cannot accept. */
  decode(raw: Buffer): E;
  /** The entry as a record to publish (key, encoded value, optional headers). */
  record(entry: E, headers?: Record<string, string>): OutgoingRecord;
}

function format<E>(topic: keyof TopicNames, key: (e: E) => string, toJson: (e: E) => Json, decode: (raw: Buffer) => E): RecordFormat<E> {
  return {
    topic,
    key,
    encode: (e) => encode(toJson(e)),
    decode,
    record: (e, headers) => ({ key: key(e), value: encode(toJson(e)), ...(headers ? { headers } : {}) }),
  };
}

export const messagesRecords = format<MessagesEntry>(
  'messages',
  (e) => (e.kind === 'message' ? e.message.conversationId : e.change.conversationId),
  (e) => (e.kind === 'message' ? { message: e.message, ...(e.members ? { members: e.members } : {}) } : { membership: e.change }),
  (raw) => {
    const { o, legacy } = envelope(raw);
    if (legacy) return { kind: 'message', message: accepted(o) };
    if (o['message'] != null) return { kind: 'message', message: accepted(o['message']), ...members(o['members']) };
    if (o['membership'] != null) return { kind: 'membership', change: membership(o['membership']) };
    throw new RecordFormatError('a parley.messages record holds neither message nor membership');
  },
);

export const deliveriesRecords = format<DeliveriesEntry>(
  'deliveries',
  (e) => (e.kind === 'message' ? e.message.conversationId : e.kind === 'receipt' ? e.receipt.conversationId : e.kind === 'membership' ? e.change.conversationId : e.rejection.conversationId),
  (e) => (e.kind === 'message' ? { message: e.message, ...(e.members ? { members: e.members } : {}) } : e.kind === 'receipt' ? { receipt: e.receipt } : e.kind === 'membership' ? { membership: e.change } : { rejected: e.rejection }),
  (raw) => {
    // Records from before versioning have the same payload fields (plus memberIds, ignored).
    const { o } = envelope(raw);
    if (o['message'] != null) return { kind: 'message', message: stored(o['message']), ...members(o['members']) };
    if (o['receipt'] != null) return { kind: 'receipt', receipt: receipt(o['receipt']) };
    if (o['membership'] != null) return { kind: 'membership', change: membership(o['membership']) };
    if (o['rejected'] != null) return { kind: 'rejected', rejection: rejection(o['rejected']) };
    throw new RecordFormatError('a parley.deliveries record holds none of message, receipt, membership, rejected');
  },
);

export const receiptsRecords = format<ReceiptsEntry>(
  'receipts',
  (e) => e.receipt.conversationId,
  (e) => ({ receipt: e.receipt }),
  (raw) => {
    const { o, legacy } = envelope(raw);
    return { kind: 'receipt', receipt: receipt(legacy ? o : o['receipt']) };
  },
);

export const signalsRecords = format<SignalsEntry>(
  'signals',
  (e) => e.signal.conversationId,
  (e) => ({ signal: e.signal }),
  (raw) => {
    const { o, legacy } = envelope(raw);
    return { kind: 'signal', signal: signal(legacy ? o : o['signal']) };
  },
);

export const membershipRecords = format<MembershipEntry>(
  'membership',
  (e) => e.change.conversationId,
  (e) => ({ membership: e.change }),
  (raw) => {
    const { o } = envelope(raw);
    return { kind: 'membership', change: membership(o['membership']) };
  },
);

/** A membership change as records of at most MAX_MEMBERSHIP_IDS_PER_RECORD users each. */
export function membershipChanges(conversationId: string, change: 'added' | 'removed', userIds: readonly string[], at: number): ValidMembershipChange[] {
  const out: ValidMembershipChange[] = [];
  for (let i = 0; i < userIds.length; i += MAX_MEMBERSHIP_IDS_PER_RECORD) {
    out.push({ conversationId, change, userIds: userIds.slice(i, i + MAX_MEMBERSHIP_IDS_PER_RECORD), at });
  }
  return out;
}

/** What the proto types call these payloads (for callers that hold generated types). */
export type { AcceptedMessage, MembershipChange, Receipt, Rejection, Signal, StoredMessage };
