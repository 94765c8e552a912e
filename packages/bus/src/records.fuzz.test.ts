// The fuzz pass over every topic's record decoder: valid records of each kind (current and
// pre-versioning forms) with one field removed, retyped or replaced, any JSON value, and any
// bytes. decode must return an entry that is valid for its topic or throw RecordFormatError:
// anything else would crash a consumer loop instead of parking the record in parley.dlq.
import fc from 'fast-check';
import { ID_PATTERN, isValidId, serverMsgIdFor } from '@parley/core';
import { FUZZ_RUNS, expectDecodesOrRefuses, mutated, type Json } from '../../../test/support/fuzz';
import {
  MAX_MEMBERSHIP_IDS_PER_RECORD,
  RecordFormatError,
  deliveriesRecords,
  membershipRecords,
  messagesRecords,
  receiptsRecords,
  signalsRecords,
  type DeliveriesEntry,
  type MessagesEntry,
  type RecordFormat,
  type ValidAccepted,
  type ValidMembershipChange,
  type ValidReceipt,
  type ValidRejection,
  type ValidSignal,
  type ValidStored,
} from './records';

// ---------------------------------------------------------------- valid records
const id = fc.stringMatching(ID_PATTERN);
const time = fc.nat({ max: 4_102_444_800_000 });
const acceptedArb: fc.Arbitrary<ValidAccepted> = fc
  .record({ conversationId: id, senderId: id, senderDeviceId: id, clientMsgId: id, body: fc.string({ maxLength: 40 }), sentAt: time })
  .map((m) => ({ ...m, serverMsgId: serverMsgIdFor(m.conversationId, m.senderId, m.clientMsgId) }));
const storedArb: fc.Arbitrary<ValidStored> = fc.tuple(acceptedArb, fc.integer({ min: 1, max: 1e9 })).map(([m, seq]) => ({ ...m, seq }));
const changeArb: fc.Arbitrary<ValidMembershipChange> = fc.record({ conversationId: id, change: fc.constantFrom('added' as const, 'removed' as const), userIds: fc.array(id, { minLength: 1, maxLength: 4 }), at: time });
const receiptArb: fc.Arbitrary<ValidReceipt> = fc.record({ conversationId: id, userId: id, deviceId: id, kind: fc.constantFrom('delivered' as const, 'read' as const), seq: fc.integer({ min: 1, max: 1e9 }), at: time });
const signalArb: fc.Arbitrary<ValidSignal> = fc.record({ conversationId: id, senderId: id, senderDeviceId: id, kind: fc.stringMatching(/^[a-z0-9_.-]{1,32}$/), data: fc.string({ maxLength: 40 }), sentAt: time });
const rejectionArb: fc.Arbitrary<ValidRejection> = fc.record({
  conversationId: id,
  serverMsgId: fc.string({ minLength: 1, maxLength: 64 }),
  clientMsgId: id,
  senderId: id,
  senderDeviceId: id,
  code: fc.constantFrom('PERMISSION_DENIED' as const, 'NOT_FOUND' as const),
  reason: fc.string({ maxLength: 200 }),
});
const pair = fc.option(fc.tuple(id, id).map(([a, b]) => [a, b]), { nil: undefined });

const json = (s: string): Json => JSON.parse(s) as Json;
/** Each topic's records as JSON: written by encode, and in the pre-versioning flat form where the topic had one. */
const RECORDS: Record<string, { format: RecordFormat<unknown>; valid: fc.Arbitrary<Json> }> = {
  messages: {
    format: messagesRecords as RecordFormat<unknown>,
    valid: fc.oneof(
      fc.tuple(acceptedArb, pair).map(([message, members]) => json(messagesRecords.encode({ kind: 'message', message, ...(members ? { members } : {}) }))),
      changeArb.map((change) => json(messagesRecords.encode({ kind: 'membership', change }))),
      acceptedArb.map((m) => m as unknown as Json),
    ),
  },
  deliveries: {
    format: deliveriesRecords as RecordFormat<unknown>,
    valid: fc.oneof(
      fc.tuple(storedArb, pair).map(([message, members]) => json(deliveriesRecords.encode({ kind: 'message', message, ...(members ? { members } : {}) }))),
      receiptArb.map((receipt) => json(deliveriesRecords.encode({ kind: 'receipt', receipt }))),
      changeArb.map((change) => json(deliveriesRecords.encode({ kind: 'membership', change }))),
      rejectionArb.map((rejection) => json(deliveriesRecords.encode({ kind: 'rejected', rejection }))),
    ),
  },
  receipts: {
    format: receiptsRecords as RecordFormat<unknown>,
    valid: fc.oneof(receiptArb.map((receipt) => json(receiptsRecords.encode({ kind: 'receipt', receipt }))), receiptArb.map((r) => r as unknown as Json)),
  },
  signals: {
    format: signalsRecords as RecordFormat<unknown>,
    valid: fc.oneof(signalArb.map((signal) => json(signalsRecords.encode({ kind: 'signal', signal }))), signalArb.map((s) => s as unknown as Json)),
  },
  membership: { format: membershipRecords as RecordFormat<unknown>, valid: changeArb.map((change) => json(membershipRecords.encode({ kind: 'membership', change }))) },
};

// ---------------------------------------------------------------- what a valid entry is
type O = Record<string, unknown>;
const nat = (v: unknown, min = 0) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const text = (v: unknown, max = Infinity) => typeof v === 'string' && v.length <= max;
const ids = (o: O, ...fields: string[]) => fields.every((f) => isValidId(o[f]));

function validAccepted(m: O): boolean {
  return ids(m, 'conversationId', 'senderId', 'senderDeviceId', 'clientMsgId') && text(m['body']) && nat(m['sentAt']) && m['serverMsgId'] === serverMsgIdFor(m['conversationId'] as string, m['senderId'] as string, m['clientMsgId'] as string);
}
const validStored = (m: O) => ids(m, 'conversationId', 'senderId', 'senderDeviceId', 'clientMsgId') && text(m['serverMsgId'], 64) && text(m['body']) && nat(m['sentAt']) && nat(m['seq'], 1);
const validChange = (c: O) =>
  isValidId(c['conversationId']) && (c['change'] === 'added' || c['change'] === 'removed') && Array.isArray(c['userIds']) && c['userIds'].length >= 1 && c['userIds'].length <= MAX_MEMBERSHIP_IDS_PER_RECORD && c['userIds'].every(isValidId) && nat(c['at']);
const validReceipt = (r: O) => ids(r, 'conversationId', 'userId', 'deviceId') && (r['kind'] === 'delivered' || r['kind'] === 'read') && nat(r['seq'], 1) && nat(r['at']);
const validSignal = (s: O) => ids(s, 'conversationId', 'senderId', 'senderDeviceId') && typeof s['kind'] === 'string' && /^[a-z0-9_.-]{1,32}$/.test(s['kind']) && text(s['data']) && nat(s['sentAt']);
const validRejection = (r: O) => ids(r, 'conversationId', 'clientMsgId', 'senderId', 'senderDeviceId') && text(r['serverMsgId'], 64) && (r['code'] === 'PERMISSION_DENIED' || r['code'] === 'NOT_FOUND') && text(r['reason'], 200);
const validMembers = (e: O) => e['members'] === undefined || (Array.isArray(e['members']) && e['members'].length === 2 && e['members'].every(isValidId));

function validEntry(topic: string, entry: unknown): boolean | string {
  const e = entry as O;
  const ok = (() => {
    switch (`${topic}/${String(e['kind'])}`) {
      case 'messages/message':
        return validAccepted(e['message'] as O) && validMembers(e);
      case 'messages/membership':
      case 'deliveries/membership':
      case 'membership/membership':
        return validChange(e['change'] as O);
      case 'deliveries/message':
        return validStored(e['message'] as O) && validMembers(e);
      case 'deliveries/receipt':
      case 'receipts/receipt':
        return validReceipt(e['receipt'] as O);
      case 'deliveries/rejected':
        return validRejection(e['rejection'] as O);
      case 'signals/signal':
        return validSignal(e['signal'] as O);
      default:
        return false;
    }
  })();
  if (!ok) return `not a valid ${topic} entry`;
  // A decoded entry survives its own round trip unchanged (what a replay from parley.dlq relies on).
  const format = RECORDS[topic]!.format;
  return JSON.stringify(format.decode(Buffer.from(format.encode(entry)))) === JSON.stringify(entry) || 'changed by a round trip';
}

describe.each(Object.keys(RECORDS))('the parley.%s record decoder (fuzz)', (topic) => {
  const { format, valid } = RECORDS[topic]!;
  const decodes = (raw: Buffer) => expectDecodesOrRefuses(() => format.decode(raw), (entry) => validEntry(topic, entry), RecordFormatError);

  it('decodes every valid record it is given', () => {
    fc.assert(fc.property(valid, (record) => expect(validEntry(topic, format.decode(Buffer.from(JSON.stringify(record))))).toBe(true)), FUZZ_RUNS);
  });

  it('valid records with one field removed, retyped or replaced: a valid entry or RecordFormatError', () => {
    fc.assert(fc.property(mutated(valid), (record) => decodes(Buffer.from(JSON.stringify(record)))), FUZZ_RUNS);
  });

  it('any JSON value: a valid entry or RecordFormatError', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => decodes(Buffer.from(JSON.stringify(value) ?? 'null'))), FUZZ_RUNS);
  });

  it('any bytes, and valid records cut short or with bytes flipped: a valid entry or RecordFormatError', () => {
    const damaged = fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([record, at, byte]) => {
      const bytes = Buffer.from(JSON.stringify(record));
      const i = at % bytes.length;
      return at % 2 === 0 ? bytes.subarray(0, i) : Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i + 1)]);
    });
    fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)), damaged), (raw) => decodes(raw)), FUZZ_RUNS);
  });

  it('numbers JSON can hold but a record must not (1e400, -0, fractions) in every numeric field', () => {
    fc.assert(
      fc.property(valid, fc.constantFrom('1e400', '-1e400', '-0', '0.5', '9007199254740993', '-1'), (record, number) => {
        // Every number of the record written as this text (JSON.stringify cannot write 1e400).
        const raw = JSON.stringify(record).replace(/(?<=":)-?\d+(\.\d+)?(e[+-]?\d+)?/g, number);
        decodes(Buffer.from(raw));
      }),
      FUZZ_RUNS,
    );
  });
});

// Typed so that a new entry kind added to a topic without a case above fails to compile here.
const _kinds: [MessagesEntry['kind'], DeliveriesEntry['kind']][] = [['message', 'rejected']];
void _kinds;
