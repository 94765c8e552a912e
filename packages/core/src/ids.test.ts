import fc from 'fast-check';
import { directConversationId, isDirectPair, isValidId, serverMsgIdFor } from './ids';

describe('ids', () => {
  it('gives a resend the same serverMsgId and different messages different ones', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (conversation, sender, a, b) => {
        expect(serverMsgIdFor(conversation, sender, a)).toBe(serverMsgIdFor(conversation, sender, a));
        if (a !== b) expect(serverMsgIdFor(conversation, sender, a)).not.toBe(serverMsgIdFor(conversation, sender, b));
      }),
    );
  });

  it('does not confuse ("ab","c") with ("a","bc")', () => {
    expect(serverMsgIdFor('ab', 'c', 'x')).not.toBe(serverMsgIdFor('a', 'bc', 'x'));
    expect(directConversationId('ab', 'c')).not.toBe(directConversationId('a', 'bc'));
  });

  it('derives one direct conversation per pair, whoever asks', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        expect(directConversationId(a, b)).toBe(directConversationId(b, a));
        expect(isValidId(directConversationId(a, b))).toBe(true);
      }),
    );
  });

  it('accepts only bounded printable ids', () => {
    expect(isValidId('user-1@example.com')).toBe(true);
    for (const bad of ['', 'a b', 'x'.repeat(129), 'a/b', 'ü', 7, null]) expect(isValidId(bad)).toBe(false);
  });

  it('proves a direct conversation\'s members by its id, in either order, and nothing else', () => {
    const c = directConversationId('alice', 'bob');
    expect(isDirectPair(c, ['alice', 'bob'])).toBe(true);
    expect(isDirectPair(c, ['bob', 'alice'])).toBe(true);
    for (const bad of [['alice', 'mallory'], ['alice'], ['alice', 'bob', 'carol'], ['alice', 'alice'], ['alice', 7]]) expect(isDirectPair(c, bad)).toBe(false);
    expect(isDirectPair('g_team', ['alice', 'bob'])).toBe(false);
  });
});
