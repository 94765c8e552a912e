import fc from 'fast-check';
import { directConversationId, isBotId, isDirectPair, isReservedId, isUserId, isValidId, serverMsgIdFor } from './ids';

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

  it('reserves the service namespaces: bot:<lower-case name> is a bot, neither it nor system is a user', () => {
    expect(['bot:support', 'bot:a', 'bot:release-notes.v2', `bot:${'a'.repeat(60)}`].every(isBotId)).toBe(true);
    expect(['bot:', 'bot:Support', 'bot:-x', 'bot:a b', `bot:${'a'.repeat(61)}`, 'support', 'bots:x', 'system', 42].some(isBotId)).toBe(false);
    for (const id of ['bot:support', 'bot:Support', 'bot:', 'system', 'system:notices']) {
      expect(isReservedId(id)).toBe(true);
      expect(isUserId(id)).toBe(false);
    }
    for (const id of ['alice', 'robot:x', 'systems', 'u:bot:x', 'Bot:x']) expect(isUserId(id)).toBe(true);
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
