import fc from 'fast-check';
import { LocalSessions, type LocalSession } from './local-sessions';
import type { Transport } from './transport';

let nextSession = 1;
function session(userId: string, deviceId: string): LocalSession {
  const sessionId = `s_${nextSession++}`;
  // The registry never touches the transport; a tagged plain object stands in for it.
  return { userId, deviceId, sessionId, transport: { sessionId } as unknown as Transport, connectedAt: 0, inflight: 0, alive: true, bufferedAtBeat: 0 };
}

describe('LocalSessions', () => {
  it('adds a session, finds it by (user, device) and counts it', () => {
    const sessions = new LocalSessions();
    const phone = session('alice', 'phone');
    expect(sessions.add(phone)).toBeUndefined();
    expect(sessions.size).toBe(1);
    expect(sessions.get('alice', 'phone')).toBe(phone);
    expect(sessions.get('alice', 'laptop')).toBeUndefined();
    expect(sessions.get('bob', 'phone')).toBeUndefined();
    expect(sessions.all()).toEqual([phone]);
  });

  it('replaces the session of the same device and returns the one it replaced', () => {
    const sessions = new LocalSessions();
    const first = session('alice', 'phone');
    const second = session('alice', 'phone');
    sessions.add(first);
    expect(sessions.add(second)).toBe(first);
    expect(sessions.size).toBe(1);
    expect(sessions.get('alice', 'phone')).toBe(second);
    expect(sessions.all()).toEqual([second]);
  });

  it('does not let a replaced session remove the newer one', () => {
    const sessions = new LocalSessions();
    const first = session('alice', 'phone');
    const second = session('alice', 'phone');
    sessions.add(first);
    sessions.add(second);
    // The old socket closes after it was replaced: its removal must be a no-op.
    expect(sessions.remove(first)).toBe(false);
    expect(sessions.get('alice', 'phone')).toBe(second);
    expect(sessions.size).toBe(1);
    expect(sessions.remove(second)).toBe(true);
    expect(sessions.get('alice', 'phone')).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('removes a session once; a second removal changes nothing and the count never goes negative', () => {
    const sessions = new LocalSessions();
    const phone = session('alice', 'phone');
    const laptop = session('alice', 'laptop');
    sessions.add(phone);
    sessions.add(laptop);
    expect(sessions.remove(phone)).toBe(true);
    expect(sessions.remove(phone)).toBe(false);
    expect(sessions.size).toBe(1);
    expect(sessions.get('alice', 'laptop')).toBe(laptop);
    expect(sessions.remove(laptop)).toBe(true);
    expect(sessions.remove(laptop)).toBe(false);
    expect(sessions.size).toBe(0);
    expect(sessions.all()).toEqual([]);
  });

  it('ignores the removal of a session it never held, even one with the same user and device as a held one', () => {
    const sessions = new LocalSessions();
    const held = session('alice', 'phone');
    sessions.add(held);
    expect(sessions.remove(session('alice', 'phone'))).toBe(false);
    expect(sessions.remove(session('bob', 'phone'))).toBe(false);
    expect(sessions.size).toBe(1);
    expect(sessions.get('alice', 'phone')).toBe(held);
  });

  it('keeps devices of one user and users with the same device id apart', () => {
    const sessions = new LocalSessions();
    const alicePhone = session('alice', 'phone');
    const aliceLaptop = session('alice', 'laptop');
    const bobPhone = session('bob', 'phone');
    for (const s of [alicePhone, aliceLaptop, bobPhone]) expect(sessions.add(s)).toBeUndefined();
    expect(sessions.size).toBe(3);
    expect(sessions.get('alice', 'phone')).toBe(alicePhone);
    expect(sessions.get('alice', 'laptop')).toBe(aliceLaptop);
    expect(sessions.get('bob', 'phone')).toBe(bobPhone);
    expect(sessions.remove(alicePhone)).toBe(true);
    expect(sessions.get('bob', 'phone')).toBe(bobPhone);
    expect(sessions.get('alice', 'laptop')).toBe(aliceLaptop);
    expect(new Set(sessions.all())).toEqual(new Set([aliceLaptop, bobPhone]));
  });

  it('lets a device come back after its session was removed', () => {
    const sessions = new LocalSessions();
    const first = session('alice', 'phone');
    sessions.add(first);
    sessions.remove(first);
    const again = session('alice', 'phone');
    expect(sessions.add(again)).toBeUndefined();
    expect(sessions.size).toBe(1);
    expect(sessions.get('alice', 'phone')).toBe(again);
  });

  it('treats adding the current session again as a replacement by itself', () => {
    const sessions = new LocalSessions();
    const phone = session('alice', 'phone');
    sessions.add(phone);
    expect(sessions.add(phone)).toBe(phone);
    expect(sessions.size).toBe(1);
    expect(sessions.remove(phone)).toBe(true);
    expect(sessions.size).toBe(0);
  });

  it('matches a model of one current session per (user, device) under any sequence of adds and removes', () => {
    const op = fc.record({
      kind: fc.constantFrom('add', 'remove-current', 'remove-old'),
      userId: fc.constantFrom('alice', 'bob', 'carol'),
      deviceId: fc.constantFrom('phone', 'laptop'),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const sessions = new LocalSessions();
        const current = new Map<string, LocalSession>();
        const replaced: LocalSession[] = [];
        for (const { kind, userId, deviceId } of ops) {
          const key = `${userId}/${deviceId}`;
          if (kind === 'add') {
            const s = session(userId, deviceId);
            const previous = current.get(key);
            expect(sessions.add(s)).toBe(previous);
            if (previous) replaced.push(previous);
            current.set(key, s);
          } else if (kind === 'remove-current') {
            const s = current.get(key);
            if (s) {
              expect(sessions.remove(s)).toBe(true);
              current.delete(key);
            }
          } else {
            const stale = replaced.find((s) => s.userId === userId && s.deviceId === deviceId);
            if (stale) expect(sessions.remove(stale)).toBe(false);
          }
          expect(sessions.size).toBe(current.size);
          expect(sessions.all().length).toBe(current.size);
          expect(new Set(sessions.all())).toEqual(new Set(current.values()));
          for (const [k, s] of current) {
            const [u, d] = k.split('/') as [string, string];
            expect(sessions.get(u, d)).toBe(s);
          }
        }
      }),
    );
  });
});
