// In-memory session directory, for unit tests only (same contract as Redis).
import type { SessionDirectory, SessionRecord } from './port';

interface Entry {
  session: SessionRecord;
  expiresAt: number;
}

export class MemorySessionDirectory implements SessionDirectory {
  private readonly users = new Map<string, Map<string, Entry>>();

  constructor(private readonly now: () => number = Date.now) {}

  async register(session: SessionRecord, ttlMs: number): Promise<void> {
    const devices = this.users.get(session.userId) ?? new Map<string, Entry>();
    devices.set(session.deviceId, { session: { ...session }, expiresAt: this.now() + ttlMs });
    this.users.set(session.userId, devices);
  }

  async refresh(sessions: readonly SessionRecord[], ttlMs: number): Promise<void> {
    for (const session of sessions) {
      const entry = this.users.get(session.userId)?.get(session.deviceId);
      if (entry && entry.session.sessionId === session.sessionId) entry.expiresAt = this.now() + ttlMs;
      else if (!entry) await this.register(session, ttlMs); // restore a lost entry, as Redis does
    }
  }

  async unregister(session: SessionRecord): Promise<boolean> {
    const devices = this.users.get(session.userId);
    const entry = devices?.get(session.deviceId);
    if (!devices || !entry || entry.session.sessionId !== session.sessionId) return false;
    devices.delete(session.deviceId);
    if (devices.size === 0) this.users.delete(session.userId);
    return true;
  }

  async lookup(userIds: readonly string[]): Promise<Map<string, SessionRecord[]>> {
    const now = this.now();
    const out = new Map<string, SessionRecord[]>();
    for (const userId of new Set(userIds)) {
      const live = [...(this.users.get(userId)?.values() ?? [])].filter((e) => e.expiresAt > now).map((e) => ({ ...e.session }));
      if (live.length > 0) out.set(userId, live);
    }
    return out;
  }

  healthy(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
