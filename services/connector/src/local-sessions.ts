// Owns the sessions this connector holds, indexed by (user, device), whatever their transport.
import type { Transport } from './transport';

export interface LocalSession {
  userId: string;
  deviceId: string;
  sessionId: string;
  transport: Transport;
  connectedAt: number;
  /** Sends and requests in flight from this session. */
  inflight: number;
  alive: boolean;
  /** transport.bufferedBytes at the last heartbeat (0: nothing was queued). */
  bufferedAtBeat: number;
}

export class LocalSessions {
  private readonly byUser = new Map<string, Map<string, LocalSession>>();
  /** Every session, for the periodic passes (heartbeats, directory refresh) to walk without building arrays. */
  private readonly every = new Set<LocalSession>();

  get size(): number {
    return this.every.size;
  }

  /** Adds a session and returns the one it replaces (same device), if any. */
  add(session: LocalSession): LocalSession | undefined {
    const devices = this.byUser.get(session.userId) ?? new Map<string, LocalSession>();
    const previous = devices.get(session.deviceId);
    devices.set(session.deviceId, session);
    this.byUser.set(session.userId, devices);
    if (previous) this.every.delete(previous);
    this.every.add(session);
    return previous;
  }

  /** Removes the session only if it is still the device's current one. */
  remove(session: LocalSession): boolean {
    const devices = this.byUser.get(session.userId);
    if (devices?.get(session.deviceId) !== session) return false;
    devices.delete(session.deviceId);
    if (devices.size === 0) this.byUser.delete(session.userId);
    this.every.delete(session);
    return true;
  }

  get(userId: string, deviceId: string): LocalSession | undefined {
    return this.byUser.get(userId)?.get(deviceId);
  }

  /** A copy: safe to change the sessions while walking it. */
  all(): LocalSession[] {
    return [...this.every];
  }

  /** Every session, without a copy (a session added or removed meanwhile may or may not be seen). */
  values(): IterableIterator<LocalSession> {
    return this.every.values();
  }
}
