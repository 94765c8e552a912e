import fc from 'fast-check';
import { JsonShapeError, jsonMethodCodec, parleyGrpc } from './index';

const history = jsonMethodCodec('parley.v1.Storage', 'History')!;
const sendBatch = jsonMethodCodec('parley.v1.Router', 'SendBatch')!;
const storage = () => parleyGrpc().parley.v1.Storage.service;
const router = () => parleyGrpc().parley.v1.Router.service;

/** What the gRPC server would hand the handler for these JSON bytes. */
const asHandlerSees = (codec: typeof history, deserialize: (b: Buffer) => unknown, json: unknown) => deserialize(codec.requestFromJson(json));

const shapeError = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (err instanceof JsonShapeError) return err.message;
    throw err;
  }
  throw new Error('no JsonShapeError');
};

describe('the JSON form of API messages', () => {
  it('gives the handler what a gRPC client would: names in either case, 64-bit integers as numbers or strings, enums by name or number', () => {
    const expected = { userId: 'u1', conversationId: 'g_1', fromSeq: 5, toSeq: 9_007_199_254_740_991, order: 'HISTORY_ORDER_OLDEST_FIRST', limit: 10 };
    expect(asHandlerSees(history, storage().History.requestDeserialize, { userId: 'u1', conversationId: 'g_1', fromSeq: 5, toSeq: '9007199254740991', order: 'HISTORY_ORDER_OLDEST_FIRST', limit: 10 })).toEqual(expected);
    expect(asHandlerSees(history, storage().History.requestDeserialize, { user_id: 'u1', conversation_id: 'g_1', from_seq: '5', to_seq: 9_007_199_254_740_991, order: 2, limit: '10' })).toEqual(expected);
    // Absent and null fields are the defaults.
    expect(asHandlerSees(history, storage().History.requestDeserialize, { conversationId: 'g_1', userId: null })).toEqual({ userId: '', conversationId: 'g_1', fromSeq: 0, toSeq: 0, order: 'HISTORY_ORDER_UNSPECIFIED', limit: 0 });
  });

  it('reads repeated nested messages and names the failing field by its path', () => {
    const items = [{ clientMsgId: 'c1', body: 'one' }, { client_msg_id: 'c2', body: 'two' }];
    expect((asHandlerSees(sendBatch, router().SendBatch.requestDeserialize, { senderId: 'a', items }) as { items: unknown[] }).items).toEqual([
      { clientMsgId: 'c1', body: 'one' },
      { clientMsgId: 'c2', body: 'two' },
    ]);
    expect(shapeError(() => sendBatch.requestFromJson({ items: [{ body: 'ok' }, { body: 3 }] }))).toBe('items[1].body: expected a string');
    expect(shapeError(() => sendBatch.requestFromJson({ items: [{ bodyy: 'x' }] }))).toBe('items[0].bodyy: SendItem has no such field');
    expect(shapeError(() => sendBatch.requestFromJson({ items: { body: 'x' } }))).toBe('items: expected a JSON array');
  });

  it('refuses what protobufjs would coerce: fractions, out-of-range integers, unknown enum names, non-objects', () => {
    expect(shapeError(() => history.requestFromJson({ limit: 1.5 }))).toContain('limit: expected an integer');
    expect(shapeError(() => history.requestFromJson({ limit: 2 ** 31 }))).toContain('limit: out of range');
    expect(shapeError(() => history.requestFromJson({ fromSeq: '12abc' }))).toContain('fromSeq: expected an integer');
    expect(shapeError(() => history.requestFromJson({ fromSeq: 2 ** 60 }))).toContain('fromSeq: out of range');
    expect(shapeError(() => history.requestFromJson({ order: 'NEWEST' }))).toContain('order: expected one of HISTORY_ORDER_UNSPECIFIED');
    expect(shapeError(() => history.requestFromJson({ userId: true }))).toBe('userId: expected a string');
    expect(shapeError(() => history.requestFromJson([1, 2]))).toContain('expected a JSON object');
    expect(shapeError(() => history.requestFromJson('x'))).toContain('expected a JSON object');
    // Names of Object.prototype are no fields.
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(shapeError(() => history.requestFromJson(JSON.parse(`{"${key}": {"a": 1}}`)))).toBe(`${key}: HistoryRequest has no such field`);
    }
  });

  it('writes every field of a response, 64-bit integers as strings and enums by name', () => {
    const bytes = storage().GetConversation.responseSerialize({ conversationId: 'g_1', kind: 'CONVERSATION_KIND_GROUP', memberCount: 3, lastSeq: 0, createdAt: 1_700_000_000_000 });
    expect(jsonMethodCodec('parley.v1.Storage', 'GetConversation')!.responseToJson(bytes)).toEqual({
      conversationId: 'g_1',
      kind: 'CONVERSATION_KIND_GROUP',
      memberCount: '3',
      lastSeq: '0',
      createdAt: '1700000000000',
      botIds: [], // a repeated field unset is an empty array, not absent
    });
  });

  it('knows only unary methods of Parley services', () => {
    expect(jsonMethodCodec('parley.v1.Storage', 'Nope')).toBeUndefined();
    expect(jsonMethodCodec('parley.v1.Nope', 'History')).toBeUndefined();
    expect(jsonMethodCodec('grpc.health.v1.Health', 'Watch')).toBeUndefined(); // server streaming
  });

  it('either decodes any JSON value or throws JsonShapeError, never anything else (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          sendBatch.requestFromJson(value);
        } catch (err) {
          if (!(err instanceof JsonShapeError)) throw err;
        }
      }),
      { numRuns: 500, seed: 11 },
    );
  });
});
