import fc from 'fast-check';
import { ID_PATTERN, ParleyError } from '@parley/core';
import type { StoredMessage } from '@parley/proto';
import { FUZZ_RUNS, mutated, type Json } from '../../../test/support/fuzz';
import { FrameError, ackFrame, convListFrame, errorFrame, pongFrame, msgFrame, msgsFrame, parseClientFrame, receiptFrame, sigFrame, welcomeFrame, type ClientFrame } from './frames';

/** The FrameError parseClientFrame throws for data; fails the test if it returns or throws anything else. */
function frameError(data: string): FrameError {
  let frame: ClientFrame;
  try {
    frame = parseClientFrame(data);
  } catch (err) {
    if (err instanceof FrameError) return err;
    throw err;
  }
  throw new Error(`expected a FrameError, got the frame ${JSON.stringify(frame)}`);
}

const json = (value: unknown): string => JSON.stringify(value);
const send = { type: 'send', clientMsgId: 'c-1', conversationId: 'g_team', body: 'hello' };
const sync = { type: 'sync', reqId: 'r1', conversationId: 'g_team', afterSeq: 41, limit: 100 };
const history = { type: 'history', reqId: 'r2', conversationId: 'g_team', fromSeq: 3, toSeq: 120, order: 'oldest_first', limit: 50 };

describe('parseClientFrame: accepted frames', () => {
  it('parses a send frame', () => {
    expect(parseClientFrame(json(send))).toEqual(send);
  });

  it('parses a send frame whose body is any storable string, including unicode', () => {
    const body = 'héllo 😀 \u0001 "quoted"\n';
    expect(parseClientFrame(json({ ...send, body }))).toEqual({ ...send, body });
  });

  it.each([
    ['U+0000', 'a\u0000b', 'U+0000'],
    ['a lone high surrogate', 'a\ud800b', 'surrogate'],
    ['a lone low surrogate', '\udc00', 'surrogate'],
  ])('refuses a send body holding %s (no store can keep it) with INVALID_ARGUMENT', (_name, body, hint) => {
    expect(() => parseClientFrame(json({ ...send, body }))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(hint) }));
  });

  it('parses a sync frame with every field', () => {
    expect(parseClientFrame(json(sync))).toEqual(sync);
  });

  it('defaults a sync frame afterSeq to 0 and leaves reqId and limit absent', () => {
    const frame = parseClientFrame(json({ type: 'sync', conversationId: 'g_team' }));
    expect(frame).toEqual({ type: 'sync', conversationId: 'g_team', afterSeq: 0 });
    expect(Object.keys(frame).sort()).toEqual(['afterSeq', 'conversationId', 'type']);
  });

  it('parses a history frame with every field', () => {
    expect(parseClientFrame(json(history))).toEqual(history);
    expect(parseClientFrame(json({ ...history, order: 'newest_first' }))).toEqual({ ...history, order: 'newest_first' });
  });

  it('parses a history frame with only a conversation, leaving every option absent', () => {
    const frame = parseClientFrame(json({ type: 'history', conversationId: 'g_team' }));
    expect(frame).toEqual({ type: 'history', conversationId: 'g_team' });
    expect(Object.keys(frame).sort()).toEqual(['conversationId', 'type']);
  });

  it('accepts the boundary values: 128-char ids and reqId, seq at MAX_SAFE_INTEGER, limit 10000 and 0', () => {
    const long = 'a'.repeat(128);
    expect(parseClientFrame(json({ ...send, clientMsgId: long, conversationId: long }))).toMatchObject({ clientMsgId: long, conversationId: long });
    expect(parseClientFrame(json({ ...sync, reqId: long, afterSeq: Number.MAX_SAFE_INTEGER, limit: 10_000 }))).toMatchObject({
      reqId: long,
      afterSeq: Number.MAX_SAFE_INTEGER,
      limit: 10_000,
    });
    expect(parseClientFrame(json({ ...history, fromSeq: 0, toSeq: 0, limit: 0 }))).toMatchObject({ fromSeq: 0, toSeq: 0, limit: 0 });
    expect(parseClientFrame(json({ ...send, clientMsgId: 'A-z_0.9:@x' }))).toMatchObject({ clientMsgId: 'A-z_0.9:@x' });
  });

  it('strips unknown fields, including a sender the client tries to choose', () => {
    const frame = parseClientFrame(json({ ...send, senderId: 'mallory', senderDeviceId: 'evil', seq: 7, extra: { nested: true } }));
    expect(frame).toEqual(send);
    expect(frame).not.toHaveProperty('senderId');
    expect(frame).not.toHaveProperty('senderDeviceId');
    expect(frame).not.toHaveProperty('extra');
    // A send frame has no reqId: one sent along is dropped too.
    expect(parseClientFrame(json({ ...send, reqId: 'r9' }))).not.toHaveProperty('reqId');
    expect(parseClientFrame(json({ ...sync, clientMsgId: 'c-9', body: 'x' }))).toEqual(sync);
  });
});

describe('parseClientFrame: BAD_FRAME', () => {
  it.each(['{not json', '', ' ', '{"type":"send",}', "{'type':'send'}", 'undefined', 'NaN'])('rejects non-JSON %p', (data) => {
    const error = frameError(data);
    expect(error.code).toBe('BAD_FRAME');
    expect(error.message).toBe('frame is not valid JSON');
    expect(error.refs).toEqual({});
  });

  it.each(['42', '"send"', 'null', 'true', 'false', '[]', json([send]), json([{ clientMsgId: 'c-1' }])])('rejects the non-object JSON %s', (data) => {
    const error = frameError(data);
    expect(error.code).toBe('BAD_FRAME');
    expect(error.message).toBe('frame must be a JSON object');
    expect(error.refs).toEqual({});
  });

  it.each([{}, { type: 1 }, { type: null }, { type: ['send'] }, { type: { name: 'send' } }, { conversationId: 'g_team', body: 'hi' }])(
    'rejects an object without a string type: %j',
    (value) => {
      const error = frameError(json(value));
      expect(error.code).toBe('BAD_FRAME');
      expect(error.message).toBe('frame has no "type"');
    },
  );

  it('recovers clientMsgId and reqId from a frame without a type', () => {
    expect(frameError(json({ clientMsgId: 'x1', reqId: 'r1', body: 'hi' })).refs).toEqual({ clientMsgId: 'x1', reqId: 'r1' });
  });
});

describe('parseClientFrame: UNKNOWN_FRAME_TYPE', () => {
  it.each(['typing', 'SEND', 'Send', ' send', 'ack', 'msg', '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])(
    'rejects the frame type %p',
    (type) => {
      const error = frameError(json({ type, clientMsgId: 'x1' }));
      expect(error.code).toBe('UNKNOWN_FRAME_TYPE');
      expect(error.message).toBe(`unknown frame type "${type}"`);
      expect(error.refs).toEqual({ clientMsgId: 'x1' });
    },
  );

  it('quotes at most 32 characters of an unknown type', () => {
    const type = 't'.repeat(5_000);
    const error = frameError(json({ type }));
    expect(error.code).toBe('UNKNOWN_FRAME_TYPE');
    expect(error.message).toBe(`unknown frame type "${'t'.repeat(32)}"`);
  });

  it('recovers reqId from an unknown frame', () => {
    expect(frameError(json({ type: 'typing', reqId: 'r7' })).refs).toEqual({ reqId: 'r7' });
  });
});

describe('parseClientFrame: INVALID_ARGUMENT', () => {
  const badIds: unknown[] = ['', 'a b', 'a/b', 'ü', 'x'.repeat(129), 'tab\t', 7, null, true, ['g_team'], { id: 'g_team' }];

  it.each(badIds)('rejects the send clientMsgId %p', (clientMsgId) => {
    const error = frameError(json({ ...send, clientMsgId }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith('clientMsgId: ')).toBe(true);
  });

  it.each(badIds)('rejects the conversationId %p in every frame type', (conversationId) => {
    for (const frame of [send, sync, history]) {
      const error = frameError(json({ ...frame, conversationId }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message.startsWith('conversationId: ')).toBe(true);
    }
  });

  it.each(['clientMsgId', 'conversationId', 'body'])('rejects a send frame without %s, naming the field', (field) => {
    const frame: Record<string, unknown> = { ...send };
    delete frame[field];
    const error = frameError(json(frame));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each([42, null, ['hi'], { text: 'hi' }, true])('rejects the send body %p', (body) => {
    const error = frameError(json({ ...send, body }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith('body: ')).toBe(true);
  });

  it('rejects sync and history frames without a conversationId', () => {
    expect(frameError(json({ type: 'sync' })).code).toBe('INVALID_ARGUMENT');
    expect(frameError(json({ type: 'history', reqId: 'r1' })).code).toBe('INVALID_ARGUMENT');
  });

  it.each([-1, -0.5, 1.5, '5', null, Number.MAX_SAFE_INTEGER + 1, 1e300, true])('rejects the sync afterSeq %p', (afterSeq) => {
    const error = frameError(json({ ...sync, afterSeq }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith('afterSeq: ')).toBe(true);
    expect(error.refs).toEqual({ reqId: 'r1' });
  });

  it.each(['fromSeq', 'toSeq'])('rejects a negative, fractional or string history %s', (field) => {
    for (const value of [-1, 2.5, '3']) {
      const error = frameError(json({ ...history, [field]: value }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message.startsWith(`${field}: `)).toBe(true);
      expect(error.refs).toEqual({ reqId: 'r2' });
    }
  });

  it.each([10_001, 1e9, Number.MAX_SAFE_INTEGER])('caps the limit %p to 10000 in sync and history', (limit) => {
    for (const frame of [sync, history]) expect(parseClientFrame(json({ ...frame, limit }))).toMatchObject({ limit: 10_000 });
  });

  it.each([-1, 2.5, '10', 1e300, Number.MAX_SAFE_INTEGER + 2])('rejects the limit %p in sync and history', (limit) => {
    for (const frame of [sync, history]) {
      const error = frameError(json({ ...frame, limit }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message.startsWith('limit: ')).toBe(true);
    }
  });

  it.each(['sideways', 'NEWEST_FIRST', 'newest-first', '', 1])('rejects the history order %p', (order) => {
    const error = frameError(json({ ...history, order }));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith('order: ')).toBe(true);
  });

  it('rejects a reqId that is not a string or longer than 128 characters', () => {
    for (const frame of [sync, history]) {
      expect(frameError(json({ ...frame, reqId: 17 })).code).toBe('INVALID_ARGUMENT');
      const tooLong = frameError(json({ ...frame, reqId: 'r'.repeat(129) }));
      expect(tooLong.code).toBe('INVALID_ARGUMENT');
      expect(tooLong.message.startsWith('reqId: ')).toBe(true);
      // Too long to echo back.
      expect(tooLong.refs).toEqual({});
    }
  });

  it('recovers the clientMsgId of an invalid send so the error can answer it', () => {
    expect(frameError(json({ type: 'send', clientMsgId: 'x2', conversationId: 'g_team' })).refs).toEqual({ clientMsgId: 'x2' });
    expect(frameError(json({ ...send, conversationId: 'not valid' })).refs).toEqual({ clientMsgId: 'c-1' });
  });

  it('does not recover a non-string or over-long clientMsgId', () => {
    expect(frameError(json({ ...send, clientMsgId: 12 })).refs).toEqual({});
    expect(frameError(json({ ...send, clientMsgId: 'c'.repeat(129) })).refs).toEqual({});
    expect(frameError(json({ ...send, body: 1, clientMsgId: 'c'.repeat(128) })).refs).toEqual({ clientMsgId: 'c'.repeat(128) });
  });

  it('throws a non-retryable ParleyError', () => {
    const error = frameError(json({ ...send, body: 1 }));
    expect(error).toBeInstanceOf(ParleyError);
    expect(error.retryable).toBe(false);
    expect(frameError('{').retryable).toBe(false);
    expect(frameError(json({ type: 'typing' })).retryable).toBe(false);
  });
});

describe('parseClientFrame: fuzz', () => {
  const expectFrameOrFrameError = (data: string): void => {
    let frame: ClientFrame;
    try {
      frame = parseClientFrame(data);
    } catch (err) {
      expect(err).toBeInstanceOf(FrameError);
      const error = err as FrameError;
      expect(['BAD_FRAME', 'UNKNOWN_FRAME_TYPE', 'INVALID_ARGUMENT']).toContain(error.code);
      for (const ref of Object.values(error.refs)) {
        expect(typeof ref).toBe('string');
        expect((ref as string).length).toBeLessThanOrEqual(128);
      }
      return;
    }
    // Whatever passes is a well-formed frame.
    expect(['send', 'sync', 'history', 'recv', 'read', 'signal', 'convs', 'ping', 'auth']).toContain(frame.type);
    if (frame.type === 'ping') return;
    if (frame.type === 'auth') {
      expect(frame.token.length).toBeGreaterThan(0);
      expect(frame.token.length).toBeLessThanOrEqual(8192);
      return;
    }
    if (frame.type === 'convs') {
      expect(frame.afterConversationId === '' || ID_PATTERN.test(frame.afterConversationId)).toBe(true);
      return;
    }
    expect(frame.conversationId).toMatch(ID_PATTERN);
    if (frame.type === 'send') expect(frame.clientMsgId).toMatch(ID_PATTERN);
    else if (frame.type === 'recv' || frame.type === 'read') expect(frame.seq).toBeGreaterThanOrEqual(1);
    else if (frame.type === 'signal') expect(frame.kind).toMatch(/^[a-z0-9_.-]{1,32}$/);
    else expect(Number.isSafeInteger(frame.type === 'sync' ? frame.afterSeq : (frame.fromSeq ?? 0))).toBe(true);
  };

  it('returns a frame or throws a FrameError for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), expectFrameOrFrameError), { numRuns: 500 });
  });

  it('returns a frame or throws a FrameError for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => expectFrameOrFrameError(json(value))),
      { numRuns: 500 },
    );
  });

  it('returns a frame or throws a FrameError for objects shaped like frames with arbitrary field values', () => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,130}$/), fc.integer(), fc.constantFrom('newest_first', 'oldest_first'));
    const frameLike = fc.record(
      {
        type: fc.oneof(fc.constantFrom('send', 'sync', 'history'), fc.string()),
        clientMsgId: anyValue,
        reqId: anyValue,
        conversationId: anyValue,
        body: anyValue,
        afterSeq: anyValue,
        fromSeq: anyValue,
        toSeq: anyValue,
        order: anyValue,
        limit: anyValue,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(frameLike, (value) => expectFrameOrFrameError(json(value))),
      { numRuns: 1_000 },
    );
  });

  it('returns a frame or throws a FrameError for a valid frame of any type with one field removed, retyped or replaced', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/);
    const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
    const reqId = fc.option(fc.string({ maxLength: 128 }), { nil: undefined });
    const limit = fc.option(fc.nat({ max: 20_000 }), { nil: undefined });
    const strip = (o: Record<string, unknown>): Json => JSON.parse(JSON.stringify(o)) as Json;
    const valid = fc.oneof(
      fc.record({ type: fc.constant('send'), clientMsgId: id, conversationId: id, body: fc.string({ maxLength: 40 }) }).map(strip),
      fc.record({ type: fc.constant('sync'), reqId, conversationId: id, afterSeq: fc.nat(), limit }).map(strip),
      fc.record({ type: fc.constant('history'), reqId, conversationId: id, fromSeq: seq, toSeq: seq, order: fc.constantFrom('newest_first', 'oldest_first'), limit }).map(strip),
      fc.record({ type: fc.constantFrom('recv', 'read'), conversationId: id, seq }).map(strip),
      fc.record({ type: fc.constant('signal'), conversationId: id, kind: fc.stringMatching(/^[a-z0-9_.-]{1,32}$/), data: fc.string({ maxLength: 40 }) }).map(strip),
      fc.record({ type: fc.constant('convs'), reqId, afterConversationId: fc.oneof(fc.constant(''), id), limit }).map(strip),
      fc.record({ type: fc.constant('ping'), reqId }).map(strip),
      fc.record({ type: fc.constant('auth'), reqId, token: fc.string({ minLength: 1, maxLength: 200 }) }).map(strip),
    );
    fc.assert(fc.property(valid, (frame) => expect(parseClientFrame(json(frame)).type).toBe((frame as { type: string }).type)), FUZZ_RUNS);
    fc.assert(fc.property(mutated(valid), (frame) => expectFrameOrFrameError(json(frame))), { numRuns: 2_000 });
  });

  it('round-trips every valid send frame', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/);
    fc.assert(
      fc.property(id, id, fc.string({ unit: 'grapheme' }), (clientMsgId, conversationId, body) => {
        const frame = { type: 'send' as const, clientMsgId, conversationId, body };
        expect(parseClientFrame(json(frame))).toEqual(frame);
      }),
    );
  });
});

describe('server frames', () => {
  const stored: StoredMessage = {
    serverMsgId: 'm_abc',
    conversationId: 'g_team',
    seq: 42,
    senderId: 'alice',
    senderDeviceId: 'phone-1',
    clientMsgId: 'c-000123',
    body: 'hello',
    sentAt: 1_764_100_000_123,
  };
  const msgFields = { ...stored, seq: 42, sentAt: 1_764_100_000_123 };

  it('ackFrame omits seq for a first send (seq 0 or absent)', () => {
    for (const seq of [0, undefined]) {
      const frame = JSON.parse(ackFrame({ clientMsgId: 'c-1', serverMsgId: 'm_x', ...(seq === undefined ? {} : { seq }) })) as Record<string, unknown>;
      expect(frame).toEqual({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_x' });
      expect('seq' in frame).toBe(false);
    }
  });

  it('ackFrame carries the seq of a resend of a stored message', () => {
    expect(JSON.parse(ackFrame({ clientMsgId: 'c-1', serverMsgId: 'm_x', seq: 42 }))).toEqual({ type: 'ack', clientMsgId: 'c-1', serverMsgId: 'm_x', seq: 42 });
    expect(JSON.parse(ackFrame({ clientMsgId: 'c-1', serverMsgId: 'm_x', seq: 1 }))).toHaveProperty('seq', 1);
  });

  it('msgFrame writes every field of the stored message with numeric seq and sentAt', () => {
    expect(JSON.parse(msgFrame(stored))).toEqual({ type: 'msg', ...msgFields });
    // int64 fields may arrive as strings (proto-loader longs): they go out as numbers.
    expect(JSON.parse(msgFrame({ ...stored, seq: '42', sentAt: '1764100000123' }))).toEqual({ type: 'msg', ...msgFields });
  });

  it('msgFrame fills absent fields with proto3 defaults', () => {
    expect(JSON.parse(msgFrame({ conversationId: 'g_team', seq: 3 }))).toEqual({
      type: 'msg',
      conversationId: 'g_team',
      seq: 3,
      serverMsgId: '',
      senderId: '',
      senderDeviceId: '',
      clientMsgId: '',
      body: '',
      sentAt: 0,
    });
  });

  it('msgsFrame carries the messages in order, hasMore and the reqId when there is one', () => {
    const second = { ...stored, seq: 43, serverMsgId: 'm_def', body: 'second' };
    expect(JSON.parse(msgsFrame({ reqId: 'r1', conversationId: 'g_team', messages: [stored, second], hasMore: true }))).toEqual({
      type: 'msgs',
      reqId: 'r1',
      conversationId: 'g_team',
      messages: [msgFields, { ...msgFields, seq: 43, serverMsgId: 'm_def', body: 'second' }],
      hasMore: true,
    });
    for (const reqId of [undefined, '']) {
      const frame = JSON.parse(msgsFrame({ reqId, conversationId: 'g_team', messages: [], hasMore: false })) as Record<string, unknown>;
      expect(frame).toEqual({ type: 'msgs', conversationId: 'g_team', messages: [], hasMore: false });
      expect('reqId' in frame).toBe(false);
    }
  });

  it('msgsFrame keeps a page within maxBytes: the longest prefix that fits (at least one message), hasMore set', () => {
    const page = Array.from({ length: 50 }, (_, i) => ({ ...stored, seq: 100 + i, serverMsgId: `m_${i}`, body: 'é'.repeat(1_000) }));
    const limit = 10_000;
    const text = msgsFrame({ conversationId: 'g_team', messages: page, hasMore: false }, limit);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(limit);
    const frame = JSON.parse(text) as { messages: { seq: number }[]; hasMore: boolean };
    expect(frame.messages.length).toBeGreaterThan(1);
    expect(frame.messages.length).toBeLessThan(page.length);
    expect(frame.messages.map((m) => m.seq)).toEqual(page.slice(0, frame.messages.length).map((m) => m.seq));
    expect(frame.hasMore).toBe(true);
    // One more message would not have fitted.
    const oneMore = msgsFrame({ conversationId: 'g_team', messages: page.slice(0, frame.messages.length + 1), hasMore: false });
    expect(Buffer.byteLength(oneMore)).toBeGreaterThan(limit);
    // A message larger than the limit still goes, alone: the client can always make progress.
    const alone = JSON.parse(msgsFrame({ conversationId: 'g_team', messages: page, hasMore: false }, 100)) as { messages: unknown[]; hasMore: boolean };
    expect(alone.messages).toHaveLength(1);
    expect(alone.hasMore).toBe(true);
    // Everything fits: hasMore is what storage said.
    expect((JSON.parse(msgsFrame({ conversationId: 'g_team', messages: page.slice(0, 2), hasMore: false }, limit)) as { hasMore: boolean }).hasMore).toBe(false);
  });

  it('errorFrame includes clientMsgId and reqId only when present', () => {
    expect(JSON.parse(errorFrame({ code: 'PERMISSION_DENIED', message: 'not a member of this conversation', retryable: false, clientMsgId: 'c-000124' }))).toEqual({
      type: 'error',
      clientMsgId: 'c-000124',
      code: 'PERMISSION_DENIED',
      message: 'not a member of this conversation',
      retryable: false,
    });
    expect(JSON.parse(errorFrame({ code: 'UNAVAILABLE', message: 'later', retryable: true, reqId: 'r1' }))).toEqual({
      type: 'error',
      reqId: 'r1',
      code: 'UNAVAILABLE',
      message: 'later',
      retryable: true,
    });
    const bare = JSON.parse(errorFrame({ code: 'BAD_FRAME', message: 'frame is not valid JSON', retryable: false })) as Record<string, unknown>;
    expect(bare).toEqual({ type: 'error', code: 'BAD_FRAME', message: 'frame is not valid JSON', retryable: false });
    expect(Object.keys(bare).sort()).toEqual(['code', 'message', 'retryable', 'type']);
  });

  it('errorFrame echoes the refs of a FrameError', () => {
    const error = frameError(json({ type: 'typing', clientMsgId: 'x1' }));
    expect(JSON.parse(errorFrame({ code: error.code, message: error.message, retryable: error.retryable, ...error.refs }))).toEqual({
      type: 'error',
      clientMsgId: 'x1',
      code: 'UNKNOWN_FRAME_TYPE',
      message: 'unknown frame type "typing"',
      retryable: false,
    });
  });

  it('welcomeFrame writes the welcome type and every field', () => {
    const welcome = { userId: 'alice', deviceId: 'phone-1', sessionId: 's_1', connectorId: 'connector-1', serverTime: 1_764_100_000_000, maxFrameBytes: 65_536 };
    expect(JSON.parse(welcomeFrame(welcome))).toEqual({ type: 'welcome', ...welcome });
  });
});

describe('position, signal and conversation-list frames', () => {
  it('parses recv, read, signal and convs', () => {
    expect(parseClientFrame(json({ type: 'recv', conversationId: 'g_1', seq: 7, extra: true }))).toEqual({ type: 'recv', conversationId: 'g_1', seq: 7 });
    expect(parseClientFrame(json({ type: 'read', conversationId: 'g_1', seq: 3 }))).toEqual({ type: 'read', conversationId: 'g_1', seq: 3 });
    expect(parseClientFrame(json({ type: 'signal', conversationId: 'g_1', kind: 'typing' }))).toEqual({ type: 'signal', conversationId: 'g_1', kind: 'typing', data: '' });
    expect(parseClientFrame(json({ type: 'convs', reqId: 'r1' }))).toEqual({ type: 'convs', reqId: 'r1', afterConversationId: '' });
    expect(parseClientFrame(json({ type: 'ping', reqId: 'p1' }))).toEqual({ type: 'ping', reqId: 'p1' });
    expect(JSON.parse(pongFrame('p1', 42))).toEqual({ type: 'pong', reqId: 'p1', serverTime: 42 });
  });

  it.each([
    [{ type: 'recv', conversationId: 'g_1', seq: 0 }, 'seq'],
    [{ type: 'recv', conversationId: 'g_1', seq: 1.5 }, 'seq'],
    [{ type: 'read', conversationId: 'bad id', seq: 1 }, 'conversationId'],
    [{ type: 'signal', conversationId: 'g_1', kind: 'Typing' }, 'kind'],
    [{ type: 'signal', conversationId: 'g_1', kind: 'typing', data: 'x'.repeat(1025) }, 'data'],
    [{ type: 'signal', conversationId: 'g_1', kind: 'typing', data: 'é'.repeat(513) }, 'data'],
    [{ type: 'convs', afterConversationId: 'a b' }, 'afterConversationId'],
  ])('refuses %j with INVALID_ARGUMENT naming %s', (frame, field) => {
    const error = frameError(json(frame));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message.startsWith(field)).toBe(true);
  });

  it('builds receipt, sig and convlist frames with numbers, not strings', () => {
    expect(JSON.parse(receiptFrame({ conversationId: 'g', userId: 'u', deviceId: 'd', kind: 'read', seq: 4, at: 9 }))).toEqual({ type: 'receipt', conversationId: 'g', userId: 'u', deviceId: 'd', kind: 'read', seq: 4 });
    expect(JSON.parse(sigFrame({ conversationId: 'g', senderId: 'u', senderDeviceId: 'd', kind: 'typing', data: '', sentAt: 5, memberIds: ['x'] }))).toEqual({
      type: 'sig',
      conversationId: 'g',
      senderId: 'u',
      senderDeviceId: 'd',
      kind: 'typing',
      data: '',
      sentAt: 5,
    });
    const list = JSON.parse(
      convListFrame({
        reqId: 'r',
        hasMore: true,
        conversations: [{ conversationId: 'd_x', kind: 'CONVERSATION_KIND_DIRECT', lastSeq: 9, deliveredSeq: 8, readSeq: 2, unread: 7, memberCount: 2 }],
      }),
    );
    expect(list).toEqual({ type: 'convlist', reqId: 'r', hasMore: true, conversations: [{ conversationId: 'd_x', kind: 'direct', lastSeq: 9, deliveredSeq: 8, readSeq: 2, unread: 7, memberCount: 2 }] });
  });
});
