import fc from 'fast-check';
import { ParleyError, serverMsgIdFor } from '@parley/core';
import {
  MAX_MEMBERSHIP_IDS_PER_RECORD,
  MAX_READABLE_VERSION,
  MAX_RECORD_BYTES,
  RECORD_VERSION,
  RecordFormatError,
  deliveriesRecords,
  membershipChanges,
  membershipRecords,
  messagesRecords,
  receiptsRecords,
  signalsRecords,
  type DeliveriesEntry,
  type MessagesEntry,
  type ValidAccepted,
  type ValidMembershipChange,
  type ValidReceipt,
  type ValidSignal,
  type ValidStored,
} from './records';

const buf = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function accepted(overrides: Partial<ValidAccepted> = {}): ValidAccepted {
  const base = { conversationId: 'g_team', senderId: 'alice', clientMsgId: 'c1', ...overrides };
  return {
    serverMsgId: serverMsgIdFor(base.conversationId, base.senderId, base.clientMsgId),
    senderDeviceId: 'phone',
    body: 'hello',
    sentAt: 1_764_100_000_000,
    ...base,
  };
}

const storedMessage = (overrides: Partial<ValidStored> = {}): ValidStored => ({ ...accepted(), seq: 7, ...overrides });
const change: ValidMembershipChange = { conversationId: 'g_team', change: 'added', userIds: ['bob', 'carol'], at: 1_764_100_000_000 };
const receipt: ValidReceipt = { conversationId: 'g_team', userId: 'bob', deviceId: 'phone', kind: 'read', seq: 3, at: 1_764_100_000_001 };
const signal: ValidSignal = { conversationId: 'g_team', senderId: 'alice', senderDeviceId: 'phone', kind: 'typing', data: '{"on":true}', sentAt: 1_764_100_000_002 };

function formatError(fn: () => unknown): RecordFormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RecordFormatError) return err;
    throw err;
  }
  throw new Error('expected a RecordFormatError');
}

describe('the record envelope', () => {
  it('writes the current version with every record', () => {
    expect(RECORD_VERSION).toBe(1);
    expect(JSON.parse(messagesRecords.encode({ kind: 'message', message: accepted() }))).toEqual({ v: RECORD_VERSION, message: accepted() });
    expect(JSON.parse(messagesRecords.encode({ kind: 'membership', change }))).toEqual({ v: RECORD_VERSION, membership: change });
    expect(JSON.parse(membershipRecords.encode({ kind: 'membership', change }))).toEqual({ v: RECORD_VERSION, membership: change });
    expect(JSON.parse(receiptsRecords.encode({ kind: 'receipt', receipt }))).toEqual({ v: RECORD_VERSION, receipt });
    expect(JSON.parse(signalsRecords.encode({ kind: 'signal', signal }))).toEqual({ v: RECORD_VERSION, signal });
    expect(JSON.parse(deliveriesRecords.encode({ kind: 'message', message: storedMessage() }))).toEqual({ v: RECORD_VERSION, message: storedMessage() });
  });

  it('builds a record keyed by conversation, with headers only when given', () => {
    const entry = { kind: 'message', message: accepted({ conversationId: 'g_other' }) } as const;
    expect(messagesRecords.record(entry)).toEqual({ key: 'g_other', value: messagesRecords.encode(entry) });
    expect(messagesRecords.record(entry, { traceparent: 'x' })).toEqual({ key: 'g_other', value: messagesRecords.encode(entry), headers: { traceparent: 'x' } });
    expect(membershipRecords.key({ kind: 'membership', change })).toBe('g_team');
    expect(receiptsRecords.key({ kind: 'receipt', receipt })).toBe('g_team');
    expect(signalsRecords.key({ kind: 'signal', signal })).toBe('g_team');
    const rejection = { conversationId: 'g_r', serverMsgId: 's', clientMsgId: 'c', senderId: 'a', senderDeviceId: 'd', code: 'NOT_FOUND', reason: '' } as const;
    expect(deliveriesRecords.key({ kind: 'rejected', rejection })).toBe('g_r');
    expect(deliveriesRecords.key({ kind: 'receipt', receipt: { ...receipt, conversationId: 'g_x' } })).toBe('g_x');
    expect(deliveriesRecords.key({ kind: 'membership', change: { ...change, conversationId: 'g_y' } })).toBe('g_y');
    expect(['messages', 'deliveries', 'receipts', 'signals', 'membership']).toEqual([messagesRecords, deliveriesRecords, receiptsRecords, signalsRecords, membershipRecords].map((f) => f.topic));
  });

  it('round-trips every entry of every topic', () => {
    const deliveries: DeliveriesEntry[] = [
      { kind: 'message', message: storedMessage() },
      { kind: 'receipt', receipt },
      { kind: 'membership', change: { ...change, change: 'removed' } },
      { kind: 'rejected', rejection: { conversationId: 'g_team', serverMsgId: accepted().serverMsgId, clientMsgId: 'c1', senderId: 'alice', senderDeviceId: 'phone', code: 'PERMISSION_DENIED', reason: 'not a member' } },
    ];
    for (const entry of deliveries) expect(deliveriesRecords.decode(buf(deliveriesRecords.encode(entry)))).toEqual(entry);
    for (const entry of [{ kind: 'message', message: accepted() } as const, { kind: 'membership', change } as const]) expect(messagesRecords.decode(buf(messagesRecords.encode(entry)))).toEqual(entry);
    expect(membershipRecords.decode(buf(membershipRecords.encode({ kind: 'membership', change })))).toEqual({ kind: 'membership', change });
    expect(receiptsRecords.decode(buf(receiptsRecords.encode({ kind: 'receipt', receipt })))).toEqual({ kind: 'receipt', receipt });
    expect(signalsRecords.decode(buf(signalsRecords.encode({ kind: 'signal', signal })))).toEqual({ kind: 'signal', signal });
  });

  it('carries a direct conversation\'s two members with a message, and drops a malformed members hint without refusing the record', () => {
    const withMembers: MessagesEntry = { kind: 'message', message: accepted(), members: ['alice', 'bob'] };
    expect(messagesRecords.decode(buf(messagesRecords.encode(withMembers)))).toEqual(withMembers);
    const delivered: DeliveriesEntry = { kind: 'message', message: storedMessage(), members: ['alice', 'bob'] };
    expect(deliveriesRecords.decode(buf(deliveriesRecords.encode(delivered)))).toEqual(delivered);
    for (const bad of [['alice'], ['alice', 'bob', 'carol'], ['alice', 'not valid'], 'alice,bob', [1, 2]]) {
      const raw = JSON.stringify({ v: 1, message: accepted(), members: bad });
      expect(messagesRecords.decode(buf(raw))).toEqual({ kind: 'message', message: accepted() });
    }
  });

  it('round-trips any valid message (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/);
    fc.assert(
      fc.property(id, id, id, id, fc.string({ unit: 'binary' }), fc.nat(), (conversationId, senderId, senderDeviceId, clientMsgId, body, sentAt) => {
        const message = accepted({ conversationId, senderId, clientMsgId, senderDeviceId, body, sentAt });
        expect(messagesRecords.decode(buf(messagesRecords.encode({ kind: 'message', message })))).toEqual({ kind: 'message', message });
      }),
      { numRuns: 50 },
    );
  });

  it('reads the next version, ignoring the fields it added', () => {
    expect(MAX_READABLE_VERSION).toBe(RECORD_VERSION + 1);
    const v2 = { v: 2, message: { ...accepted(), priority: 'high' }, routing: { zone: 'eu' } };
    expect(messagesRecords.decode(buf(v2))).toEqual({ kind: 'message', message: accepted() });
    expect(membershipRecords.decode(buf({ v: 2, membership: { ...change, reason: 'invited' } }))).toEqual({ kind: 'membership', change });
    expect(receiptsRecords.decode(buf({ v: 2, receipt: { ...receipt, extra: 1 } }))).toEqual({ kind: 'receipt', receipt });
    expect(deliveriesRecords.decode(buf({ v: 2, message: { ...storedMessage(), extra: true } }))).toEqual({ kind: 'message', message: storedMessage() });
  });

  it('reads records written before versioning (no v, flat payloads)', () => {
    expect(messagesRecords.decode(buf(accepted()))).toEqual({ kind: 'message', message: accepted() });
    expect(receiptsRecords.decode(buf(receipt))).toEqual({ kind: 'receipt', receipt });
    expect(signalsRecords.decode(buf(signal))).toEqual({ kind: 'signal', signal });
    // Deliveries had the same payload fields, plus memberIds (ignored).
    expect(deliveriesRecords.decode(buf({ message: storedMessage(), memberIds: ['alice', 'bob'] }))).toEqual({ kind: 'message', message: storedMessage() });
    expect(membershipRecords.decode(buf({ membership: change }))).toEqual({ kind: 'membership', change });
  });

  it('refuses a version newer than the next one, saying to replay it after the upgrade', () => {
    const err = formatError(() => messagesRecords.decode(buf({ v: MAX_READABLE_VERSION + 1, message: accepted() })));
    expect(err.message).toContain(`version ${MAX_READABLE_VERSION + 1}`);
    expect(err.message).toContain('replay it after the upgrade');
    for (const f of [deliveriesRecords, receiptsRecords, signalsRecords, membershipRecords]) formatError(() => f.decode(buf({ v: 99 })));
  });

  it('refuses a version that is not a positive integer', () => {
    for (const v of [0, -1, 1.5, '1', null, true, [1]]) {
      expect(formatError(() => messagesRecords.decode(buf({ v, message: accepted() }))).message).toBe('v must be a positive integer');
    }
  });

  it('refuses garbage with a permanent RecordFormatError', () => {
    for (const raw of ['', 'not json', '{"v":1', '[]', 'null', '42', '"text"', '\u0000\u00ff']) {
      const err = formatError(() => messagesRecords.decode(buf(raw)));
      expect(err).toBeInstanceOf(ParleyError);
      expect({ code: err.code, retryable: err.retryable, name: err.name }).toEqual({ code: 'INVALID_ARGUMENT', retryable: false, name: 'RecordFormatError' });
    }
    expect(formatError(() => messagesRecords.decode(Buffer.from([0xff, 0xfe, 0x00])))).toBeInstanceOf(RecordFormatError);
    expect(formatError(() => messagesRecords.decode(buf({ v: 1 }))).message).toBe('a parley.messages record holds neither message nor membership');
    expect(formatError(() => deliveriesRecords.decode(buf({ v: 1, other: {} }))).message).toContain('holds none of');
  });

  it('refuses any byte string that is not a valid record, never throwing anything else (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const f of [messagesRecords, deliveriesRecords, receiptsRecords, signalsRecords, membershipRecords]) {
          try {
            f.decode(Buffer.from(bytes));
          } catch (err) {
            expect(err).toBeInstanceOf(RecordFormatError);
          }
        }
      }),
    );
  });

  it('validates every field of a message', () => {
    const bad: [string, unknown][] = [
      ['conversationId', 'g team'],
      ['senderId', ''],
      ['senderDeviceId', 'x'.repeat(129)],
      ['clientMsgId', 7],
      ['body', null],
      ['sentAt', -1],
      ['sentAt', 1.5],
      ['serverMsgId', 'x'.repeat(65)],
    ];
    for (const [field, value] of bad) formatError(() => messagesRecords.decode(buf({ v: 1, message: { ...accepted(), [field]: value } })));
    // serverMsgId must be the one derived from (conversationId, senderId, clientMsgId).
    expect(formatError(() => messagesRecords.decode(buf({ v: 1, message: { ...accepted(), clientMsgId: 'c2' } }))).message).toContain('serverMsgId does not match');
    // A stored message needs a seq of at least 1.
    formatError(() => deliveriesRecords.decode(buf({ v: 1, message: { ...storedMessage(), seq: 0 } })));
    formatError(() => messagesRecords.decode(buf({ v: 1, message: 'text' })));
  });

  it('validates receipts, signals and rejections', () => {
    formatError(() => receiptsRecords.decode(buf({ v: 1, receipt: { ...receipt, kind: 'seen' } })));
    formatError(() => receiptsRecords.decode(buf({ v: 1, receipt: { ...receipt, seq: 0 } })));
    formatError(() => receiptsRecords.decode(buf({ v: 1 })));
    expect(receiptsRecords.decode(buf({ v: 1, receipt: { ...receipt, at: undefined } }))).toEqual({ kind: 'receipt', receipt: { ...receipt, at: 0 } });
    formatError(() => signalsRecords.decode(buf({ v: 1, signal: { ...signal, kind: 'Typing!' } })));
    formatError(() => signalsRecords.decode(buf({ v: 1, signal: { ...signal, kind: 'x'.repeat(33) } })));
    const rejected = { conversationId: 'g_team', serverMsgId: 's1', clientMsgId: 'c1', senderId: 'alice', senderDeviceId: 'phone', code: 'NOT_FOUND', reason: 'r'.repeat(300) };
    expect(deliveriesRecords.decode(buf({ v: 1, rejected }))).toEqual({ kind: 'rejected', rejection: { ...rejected, reason: 'r'.repeat(200) } });
    formatError(() => deliveriesRecords.decode(buf({ v: 1, rejected: { ...rejected, code: 'INTERNAL' } })));
  });

  it('validates membership changes: 1..MAX_MEMBERSHIP_IDS_PER_RECORD valid ids, added or removed', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    expect(membershipRecords.decode(buf({ v: 1, membership: { ...change, userIds: ids(MAX_MEMBERSHIP_IDS_PER_RECORD) } })).change.userIds).toHaveLength(MAX_MEMBERSHIP_IDS_PER_RECORD);
    for (const membership of [
      { ...change, userIds: ids(MAX_MEMBERSHIP_IDS_PER_RECORD + 1) },
      { ...change, userIds: [] },
      { ...change, userIds: ['ok', 'not ok'] },
      { ...change, userIds: 'bob' },
      { ...change, change: 'renamed' },
      { ...change, at: -1 },
      { ...change, conversationId: '' },
    ]) {
      formatError(() => membershipRecords.decode(buf({ v: 1, membership })));
      formatError(() => messagesRecords.decode(buf({ v: 1, membership })));
    }
    formatError(() => membershipRecords.decode(buf({ v: 1 })));
  });
});

describe('record size', () => {
  it('refuses to encode a record larger than MAX_RECORD_BYTES, as a permanent error', () => {
    const fits = accepted({ body: 'x'.repeat(MAX_RECORD_BYTES - 1_000) });
    expect(Buffer.byteLength(messagesRecords.encode({ kind: 'message', message: fits }))).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    const tooBig = accepted({ body: 'x'.repeat(MAX_RECORD_BYTES) });
    let thrown: unknown;
    try {
      messagesRecords.record({ kind: 'message', message: tooBig });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ParleyError);
    expect(thrown).toMatchObject({ code: 'INVALID_ARGUMENT', retryable: false });
    expect((thrown as Error).message).toContain(`larger than ${MAX_RECORD_BYTES}`);
  });

  it('counts bytes, not characters', () => {
    // 3 bytes per character: under the bound in characters, over it in bytes.
    const body = '\u20ac'.repeat(Math.ceil(MAX_RECORD_BYTES / 3) + 10);
    expect(body.length).toBeLessThan(MAX_RECORD_BYTES);
    expect(() => messagesRecords.encode({ kind: 'message', message: accepted({ body }) })).toThrow(`larger than ${MAX_RECORD_BYTES}`);
    // 4 bytes per surrogate pair (2 characters).
    const emoji = '\u{1F600}'.repeat(Math.ceil(MAX_RECORD_BYTES / 4) + 10);
    expect(() => messagesRecords.encode({ kind: 'message', message: accepted({ body: emoji }) })).toThrow(`larger than ${MAX_RECORD_BYTES}`);
    const under = '\u20ac'.repeat(Math.floor(MAX_RECORD_BYTES / 3) - 200);
    expect(Buffer.byteLength(messagesRecords.encode({ kind: 'message', message: accepted({ body: under }) }))).toBeLessThanOrEqual(MAX_RECORD_BYTES);
  });

  it('fits a full membership record of the longest ids within MAX_RECORD_BYTES', () => {
    const userIds = Array.from({ length: MAX_MEMBERSHIP_IDS_PER_RECORD }, (_, i) => `${i}`.padStart(128, 'u'));
    const full = { conversationId: 'c'.repeat(128), change: 'removed' as const, userIds, at: Number.MAX_SAFE_INTEGER };
    for (const encoded of [membershipRecords.encode({ kind: 'membership', change: full }), messagesRecords.encode({ kind: 'membership', change: full }), deliveriesRecords.encode({ kind: 'membership', change: full })]) {
      expect(Buffer.byteLength(encoded)).toBeLessThanOrEqual(MAX_RECORD_BYTES);
    }
    expect(membershipRecords.decode(buf(membershipRecords.encode({ kind: 'membership', change: full })))).toEqual({ kind: 'membership', change: full });
  });
});

describe('membershipChanges', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

  it('keeps a change that fits in one record whole', () => {
    expect(membershipChanges('g_team', 'added', ['bob'], 5)).toEqual([{ conversationId: 'g_team', change: 'added', userIds: ['bob'], at: 5 }]);
    expect(membershipChanges('g_team', 'removed', ids(MAX_MEMBERSHIP_IDS_PER_RECORD), 5)).toHaveLength(1);
    expect(membershipChanges('g_team', 'added', [], 5)).toEqual([]);
  });

  it('splits a larger one into chunks of MAX_MEMBERSHIP_IDS_PER_RECORD, in order, each a valid record', () => {
    const all = ids(2 * MAX_MEMBERSHIP_IDS_PER_RECORD + 1);
    const chunks = membershipChanges('g_big', 'removed', all, 9);
    expect(chunks.map((c) => c.userIds.length)).toEqual([MAX_MEMBERSHIP_IDS_PER_RECORD, MAX_MEMBERSHIP_IDS_PER_RECORD, 1]);
    expect(chunks.flatMap((c) => c.userIds)).toEqual(all);
    for (const c of chunks) {
      expect(c).toMatchObject({ conversationId: 'g_big', change: 'removed', at: 9 });
      expect(membershipRecords.decode(buf(membershipRecords.encode({ kind: 'membership', change: c })))).toEqual({ kind: 'membership', change: c });
    }
  });

  it('splits any list into the fewest chunks that each decode (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 * MAX_MEMBERSHIP_IDS_PER_RECORD + 5 }), (n) => {
        const chunks = membershipChanges('g_p', 'added', ids(n), 1);
        expect(chunks).toHaveLength(Math.ceil(n / MAX_MEMBERSHIP_IDS_PER_RECORD));
        expect(chunks.every((c) => c.userIds.length >= 1 && c.userIds.length <= MAX_MEMBERSHIP_IDS_PER_RECORD)).toBe(true);
        expect(chunks.flatMap((c) => c.userIds)).toEqual(ids(n));
      }),
      { numRuns: 30 },
    );
  });
});
