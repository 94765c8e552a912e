import fc from 'fast-check';
import { FrameDecodeError, decodeServerFrame } from './frames';
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
    expect(decodeServerFrame('{"type":"error","code":"UNAVAILABLE","message":"x"}')).toEqual({ type: 'error', clientMsgId: '', reqId: '', code: 'UNAVAILABLE', message: 'x', retryable: false });
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
});
