// The session-directory port: which connector holds which device's live session.
// Guarantees every adapter keeps (checked by contract.ts):
// - one live session per (user, device): registering again replaces the old one;
// - a session that is not refreshed within its TTL disappears from lookups;
// - refresh and unregister act only on the session they name (a device that moved
//   to another connector is never dropped or revived by the old one).

export interface SessionRecord {
  userId: string;
  deviceId: string;
  /** Unique per WebSocket connection. */
  sessionId: string;
  connectorId: string;
  /** host:port of the connector's gRPC server (Connector.Deliver). */
  address: string;
}

export interface SessionDirectory {
  register(session: SessionRecord, ttlMs: number): Promise<void>;
  refresh(sessions: readonly SessionRecord[], ttlMs: number): Promise<void>;
  /** Removes the session if it is still the device's current one; says whether it was. */
  unregister(session: SessionRecord): Promise<boolean>;
  /** Live sessions of each user (users with none are absent from the map). */
  lookup(userIds: readonly string[]): Promise<Map<string, SessionRecord[]>>;
  healthy(): boolean;
  close(): Promise<void>;
}
