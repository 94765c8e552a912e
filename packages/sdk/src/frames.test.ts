import fc from 'fast-check';
import { FUZZ_RUNS, mutated, type Json } from '../../../test/support/fuzz';
import { FrameDecodeError, decodeServerFrame, type ServerFrame } from './frames';
import { tokenExpiresAt } from './timing';
import { isBotSender } from './types';

describe('decodeServerFrame', () => {
  it('reads the examples of docs/PROTOCOL.md', () => {
    expect(decodeServerFrame('{"type":"ack","clientMsgId":"c-000123","serverMsgId":"m_4Q2x...","seq":42}')).toEqual({ type: 'ack', clientMsgId: 'c-000123', serverMsgId: 'm_4Q2x...', seq: 42 });
    expect(
      decodeServerFrame('{"type":"msg","conversationId":"g_team","seq":42,"serverMsgId":"m_4Q2x...","senderId":"alice","senderDeviceId":"phone-1","clientMsgId":"c-000123","body":"hello","sentAt":1764100000123}'),
    ).toEqual({
      type: 'msg',
      message: { conversationId: 'g_team', seq: 42, serverMsgId: 'm_4Q2x...', senderId: 'alice', senderDeviceId: 'phone-1', clientMsgId: 'c-000123', body: 'hello', sentAt: 1764100000123 },
    });
    const fromBot = decodeServerFrame(
      '{"type":"msg","conversationId":"g_team","seq":43,"serverMsgId":"m_9Kd...","senderId":"bot:support","senderDeviceId":"k3x9q0s7m2a1b4c5","clientMsgId":"ticket-88-1","body":"A human will answer shortly","sentAt":1764100000456}',
    );
    expect(fromBot?.type === 'msg' && isBotSender(fromBot.message.senderId)).toBe(true);
    expect(isBotSender('alice') || isBotSender('robot:x')).toBe(false);
    expect(decodeServerFrame('{"type":"convlist","reqId":"c1","conversations":[{"conversationId":"g_team","kind":"group","lastSeq":57,"deliveredSeq":42,"readSeq":40,"unread":17,"memberCount":5}],"hasMore":false}')).toEqual({
      type: 'convlist',
      reqId: 'c1',
      conversations: [{ conversationId: 'g_team', kind: 'group', lastSeq: 57, deliveredSeq: 42, readSeq: 40, unread: 17, memberCount: 5 }],
      hasMore: false,
    });
    expect(decodeServerFrame('{"type":"receipt","conversationId":"g_team","userId":"bob","deviceId":"laptop","kind":"read","seq":42}')).toEqual({
      type: 'receipt',
      receipt: { conversationId: 'g_team', userId: 'bob', deviceId: 'laptop', kind: 'read', seq: 42 },
    });
  });

  it('accepts the proto3 JSON liberties: omitted defaults, int64 as decimal strings', () => {
    expect(decodeServerFrame('{"type":"ack","clientMsgId":"c1","serverMsgId":"m1"}')).toEqual({ type: 'ack', clientMsgId: 'c1', serverMsgId: 'm1', seq: 0 });
    expect(decodeServerFrame('{"type":"msgs","conversationId":"g","messages":[{"seq":"7","sentAt":"1764100000123"}]}')).toMatchObject({
      reqId: '',
      hasMore: false,
      messages: [{ conversationId: 'g', seq: 7, sentAt: 1764100000123, body: '' }],
    });
    // Without the flag the code table decides; with it, the flag wins (PROTOCOL.md §4).
    expect(decodeServerFrame('{"type":"error","code":"UNAVAILABLE","message":"x"}')).toEqual({ type: 'error', clientMsgId: '', reqId: '', code: 'UNAVAILABLE', message: 'x', retryable: true, retryAfterMs: 0 });
    expect(decodeServerFrame('{"type":"error","code":"PERMISSION_DENIED","message":"x"}')).toMatchObject({ retryable: false });
    expect(decodeServerFrame('{"type":"error","code":"RESOURCE_EXHAUSTED","message":"x","retryable":false}')).toMatchObject({ retryable: false });
    expect(decodeServerFrame('{"type":"error","code":"INTERNAL","message":"x","retryable":true}')).toMatchObject({ retryable: true });
    expect(decodeServerFrame('{"type":"error","code":"RESOURCE_EXHAUSTED","message":"x","retryable":true,"retryAfterMs":"250"}')).toMatchObject({ retryAfterMs: 250 });
  });

  it('ignores frame types it does not know and rejects what it cannot accept', () => {
    expect(decodeServerFrame('{"type":"presence","x":1}')).toBeUndefined();
    for (const bad of ['{not json', '[]', '{}', '{"type":"msg","conversationId":"g","seq":0}', '{"type":"msg","seq":1}', '{"type":"msg","conversationId":"g","seq":-1}', '{"type":"msg","conversationId":"g","seq":1.5}', '{"type":"ack"}', '{"type":"msgs","conversationId":"g","messages":[{"conversationId":"h","seq":1}]}', '{"type":"receipt","conversationId":"g","kind":"typing"}', '{"type":"msgs","conversationId":"g","messages":{}}']) {
      expect(() => decodeServerFrame(bad)).toThrow(FrameDecodeError);
    }
  });

  it('fuzz: any input decodes or fails with a FrameDecodeError, never anything else', () => {
    const frameish = fc.record({ type: fc.constantFrom('welcome', 'ack', 'msg', 'msgs', 'error', 'receipt', 'sig', 'convlist', 'other') }).chain((head) => fc.dictionary(fc.constantFrom('conversationId', 'seq', 'messages', 'conversations', 'reqId', 'hasMore', 'kind', 'clientMsgId', 'retryable', 'sentAt', 'lastSeq'), fc.jsonValue()).map((rest) => JSON.stringify({ ...rest, ...head })));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), frameish), (text) => {
        try {
          decodeServerFrame(text);
        } catch (err) {
          expect(err).toBeInstanceOf(FrameDecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  describe('fuzz, structure-aware: every server frame type with one field removed, retyped or replaced', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_.:@-]{1,128}$/);
    const n = fc.nat();
    const int64 = fc.oneof(n, n.map(String));
    const seq = fc.integer({ min: 1, max: 1e12 });
    const message = { conversationId: id, seq, serverMsgId: fc.string({ maxLength: 30 }), senderId: id, senderDeviceId: id, clientMsgId: id, body: fc.string({ maxLength: 40 }), sentAt: int64 };
    const strip = (o: Record<string, unknown>): Json => JSON.parse(JSON.stringify(o)) as Json;
    const valid: fc.Arbitrary<Json> = fc.oneof(
      fc.record({ type: fc.constant('welcome'), userId: id, deviceId: id, sessionId: id, connectorId: id, serverTime: int64, maxFrameBytes: n }).map(strip),
      fc.record({ type: fc.constant('ack'), clientMsgId: id, serverMsgId: fc.string({ maxLength: 30 }), seq: fc.option(seq, { nil: undefined }) }).map(strip),
      fc.record({ type: fc.constant('msg'), ...message }).map(strip),
      fc.record({ type: fc.constant('msgs'), reqId: fc.string({ maxLength: 20 }), conversationId: id, messages: fc.array(fc.record({ seq, body: fc.string({ maxLength: 20 }), sentAt: int64 }), { maxLength: 3 }), hasMore: fc.boolean() }).map(strip),
      fc.record({ type: fc.constant('error'), clientMsgId: id, reqId: fc.string({ maxLength: 20 }), code: fc.constantFrom('BAD_FRAME', 'UNAVAILABLE'), message: fc.string({ maxLength: 40 }), retryable: fc.boolean() }).map(strip),
      fc.record({ type: fc.constant('receipt'), conversationId: id, userId: id, deviceId: id, kind: fc.constantFrom('delivered', 'read'), seq }).map(strip),
      fc.record({ type: fc.constant('sig'), conversationId: id, senderId: id, senderDeviceId: id, kind: fc.constantFrom('typing', 'presence'), data: fc.string({ maxLength: 20 }), sentAt: int64 }).map(strip),
      fc.record({ type: fc.constant('pong'), reqId: fc.string({ maxLength: 20 }), serverTime: int64 }).map(strip),
      fc.record({ type: fc.constant('rejected'), conversationId: id, clientMsgId: id, serverMsgId: fc.string({ maxLength: 30 }), code: fc.constantFrom('PERMISSION_DENIED', 'NOT_FOUND'), message: fc.string({ maxLength: 40 }) }).map(strip),
      fc
        .record({
          type: fc.constant('convlist'),
          reqId: fc.string({ maxLength: 20 }),
          conversations: fc.array(fc.record({ conversationId: id, kind: fc.constantFrom('direct', 'group'), lastSeq: int64, deliveredSeq: int64, readSeq: int64, unread: int64, memberCount: int64 }), { maxLength: 3 }),
          hasMore: fc.boolean(),
        })
        .map(strip),
    );

    /** What the client may rely on: the declared types, counters safe non-negative integers, a message's seq >= 1 and its conversation named. */
    function wellTyped(value: unknown, path = 'frame'): string | undefined {
      if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? undefined : `${path} is ${value}`;
      if (typeof value === 'string' || typeof value === 'boolean') return undefined;
      if (Array.isArray(value)) return value.map((v, i) => wellTyped(v, `${path}[${i}]`)).find((p) => p !== undefined);
      if (typeof value === 'object' && value !== null) return Object.entries(value).map(([k, v]) => wellTyped(v, `${path}.${k}`)).find((p) => p !== undefined);
      return `${path} is ${String(value)}`;
    }
    function check(frame: ServerFrame | undefined): boolean | string {
      if (frame === undefined) return true;
      const problem = wellTyped(frame);
      if (problem) return problem;
      const messages = frame.type === 'msg' ? [frame.message] : frame.type === 'msgs' ? frame.messages : [];
      if (messages.some((m) => m.seq < 1 || m.conversationId === '')) return 'a message without seq or conversation';
      if (frame.type === 'receipt' && frame.receipt.kind !== 'delivered' && frame.receipt.kind !== 'read') return 'a receipt of an unknown kind';
      return true;
    }
    const decodes = (text: string) => {
      let frame: ServerFrame | undefined;
      try {
        frame = decodeServerFrame(text);
      } catch (err) {
        expect(err).toBeInstanceOf(FrameDecodeError);
        return;
      }
      expect(check(frame)).toBe(true);
    };

    it('decodes every valid frame to its type', () => {
      fc.assert(fc.property(valid, (frame) => expect(decodeServerFrame(JSON.stringify(frame))?.type).toBe((frame as { type: string }).type)), FUZZ_RUNS);
    });

    it('a mutated frame decodes to a well-typed frame or fails with a FrameDecodeError', () => {
      fc.assert(fc.property(mutated(valid), (frame) => decodes(JSON.stringify(frame))), { numRuns: 2_000 });
    });

    it('numbers JSON can hold but a frame must not (1e400, -1, fractions, past 2^53) in every numeric field', () => {
      fc.assert(
        fc.property(valid, fc.constantFrom('1e400', '-1e400', '-1', '0.5', '9007199254740993', '"99999999999999999"'), (frame, number) => decodes(JSON.stringify(frame).replace(/(?<=":)-?\d+(\.\d+)?(e[+-]?\d+)?/g, number))),
        FUZZ_RUNS,
      );
    });
  });

  it('fuzz: a token whose exp the SDK reads is a finite time or nothing, for any text and any payload', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const payload = fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string(), fc.record({ exp: fc.oneof(fc.jsonValue(), fc.constant('1e400')) }).map((c) => JSON.stringify(c)), fc.constant('{"exp":1e400}'), fc.constant('{"exp":1.797693134862316e+305}'));
    fc.assert(
      fc.property(fc.oneof(fc.string(), payload.map((p) => `${b64('{"alg":"HS256"}')}.${b64(p)}.sig`)), (token) => {
        const exp = tokenExpiresAt(token);
        if (exp !== undefined) expect(Number.isFinite(exp)).toBe(true);
      }),
      FUZZ_RUNS,
    );
  });
});
