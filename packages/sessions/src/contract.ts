// The session-directory contract, run against every adapter.
import { randomUUID } from 'node:crypto';
import type { SessionDirectory, SessionRecord } from './port';

export interface SessionContractFixture {
  directory: SessionDirectory;
  /** Moves the directory's clock forward (real adapters may sleep instead). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

function session(userId: string, deviceId: string, connectorId = 'c1'): SessionRecord {
  return { userId, deviceId, sessionId: randomUUID(), connectorId, address: `${connectorId}.local:7000` };
}

export function runSessionContract(name: string, makeFixture: () => Promise<SessionContractFixture>): void {
  describe(`SessionDirectory contract: ${name}`, () => {
    let fixture: SessionContractFixture;
    beforeAll(async () => {
      fixture = await makeFixture();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('finds every live device of every user asked for, and no one else', async () => {
      const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
      const phone = session(alice, 'phone');
      const laptop = session(alice, 'laptop', 'c2');
      await fixture.directory.register(phone, 10_000);
      await fixture.directory.register(laptop, 10_000);
      await fixture.directory.register(session(bob, 'phone'), 10_000);
      const found = await fixture.directory.lookup([alice, carol, alice]);
      expect([...found.keys()]).toEqual([alice]);
      expect(found.get(alice)!.map((s) => s.deviceId).sort()).toEqual(['laptop', 'phone']);
      expect(found.get(alice)!.find((s) => s.deviceId === 'laptop')).toEqual(laptop);
    });

    it('replaces a device session on re-register and ignores the old one afterwards', async () => {
      const user = randomUUID();
      const old = session(user, 'd1', 'c1');
      const moved = session(user, 'd1', 'c2');
      await fixture.directory.register(old, 10_000);
      await fixture.directory.register(moved, 10_000);
      expect(await fixture.directory.unregister(old)).toBe(false);
      await fixture.directory.refresh([old], 10_000);
      const found = await fixture.directory.lookup([user]);
      expect(found.get(user)).toEqual([moved]);
      expect(await fixture.directory.unregister(moved)).toBe(true);
      expect((await fixture.directory.lookup([user])).has(user)).toBe(false);
    });

    it('restores a refreshed session whose entry was lost (a directory that restarted empty)', async () => {
      const user = randomUUID();
      const live = session(user, 'phone');
      await fixture.directory.register(live, 10_000);
      await fixture.directory.unregister(live); // stands in for the data being gone
      await fixture.directory.refresh([live], 10_000);
      expect((await fixture.directory.lookup([user])).get(user)).toEqual([live]);
    });

    it('expires sessions that are not refreshed and keeps those that are', async () => {
      const user = randomUUID();
      const kept = session(user, 'kept');
      const dropped = session(user, 'dropped');
      await fixture.directory.register(kept, 1_500);
      await fixture.directory.register(dropped, 1_500);
      await fixture.advance(900);
      await fixture.directory.refresh([kept], 1_500);
      await fixture.advance(900);
      const found = await fixture.directory.lookup([user]);
      expect(found.get(user)?.map((s) => s.deviceId)).toEqual(['kept']);
    });
  });
}
