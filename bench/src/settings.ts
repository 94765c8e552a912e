// The sizes of a run: the full benchmark (issue 10's load shape) and the quick one (CI: the
// harness works and counts right, in well under 3 minutes). Any numeric setting can be
// overridden from the command line by its name: `--users=500 --conversations=1000
// --ladderRates=50,100,200 --stepSeconds=5` (for reduced runs on a shared machine).

export interface Settings {
  quick: boolean;
  /** Load-generator worker processes (each has 20,000 file descriptors and one core). */
  loadgens: number;
  /** The load shape: users with one device each, direct conversations among them. */
  users: number;
  conversations: number;
  /** The comparison set for "flat in conversations". */
  smallConversations: number;
  /** Rate ladder (msg/s) for the 1:1 load, climbed by every system to its own ceiling. */
  ladderRates: number[];
  stepSeconds: number;
  holdSeconds: number;
  /** Holds tried, from the candidate downwards, before a system's ceiling is given as none. */
  holdAttempts: number;
  /** Between ladder steps: wait up to this long for the consumers' lag to clear. */
  settleSeconds: number;
  /** Flat in conversations, CPU per 1,000 and stored-data p99: this rate. */
  steadyRate: number;
  steadySeconds: number;
  /** Stored data: messages preloaded into the conversations under load. */
  storedMessages: number;
  /** Seconds the preload may take to be consumed before the scenario fails. */
  preloadTimeoutSeconds: number;
  historyMessages: number;
  historySmall: number;
  /** Timed calls per kind (the median is reported). */
  historyCalls: number;
  groupSize: number;
  groupRates: number[];
  adminCreations: number;
  adminCallers: number;
  /** Conversations stored before the second admin measurement. */
  adminStored: number;
  idleConnections: number;
  /** Conversations per idle user. */
  idleConversationsPerUser: number;
  /** Seconds the idle scenario waits, sockets idle, before its second memory reading (both systems). */
  idleSettleSeconds: number;
  /** The TLS comparison (scenarios/tls.ts): idle sockets per kind, and its shorter 1:1 ladder. */
  tlsIdleConnections: number;
  tlsLadderRates: number[];
  /** The security scenario's ladder (shipped defaults, then with them off). */
  securityLadderRates: number[];
  stormClients: number;
  stormGroupSize: number;
  lagRate: number;
  lagStopSeconds: number;
  drainMs: number;
  removalTrials: number;
  removalMembers: number;
  removalIntervalMs: number;
  /** How long the removed user goes on sending after RemoveMembers returned. */
  removalSeconds: number;
  idleCpuSeconds: number;
  /** Shared rate limits: concurrent Router.Send callers, distinct senders, rounds per store and seconds per round. */
  limitsCallers: number;
  limitsSenders: number;
  limitsRounds: number;
  limitsSeconds: number;
  /** Before each scenario: the longest wait for the load average to drop to 0.5. */
  quietWaitSeconds: number;
  profileSeconds: number;
}

export function settings(quick: boolean): Settings {
  if (quick) {
    return {
      quick,
      loadgens: 2,
      users: 120,
      conversations: 240,
      smallConversations: 10,
      ladderRates: [40, 80],
      stepSeconds: 2,
      holdSeconds: 2,
      holdAttempts: 1,
      settleSeconds: 5,
      steadyRate: 40,
      steadySeconds: 2,
      storedMessages: 1_200,
      preloadTimeoutSeconds: 60,
      historyMessages: 600,
      historySmall: 100,
      historyCalls: 3,
      groupSize: 40,
      groupRates: [5],
      adminCreations: 100,
      adminCallers: 20,
      adminStored: 1_000,
      idleConnections: 200,
      idleConversationsPerUser: 4,
      idleSettleSeconds: 2,
      tlsIdleConnections: 200,
      tlsLadderRates: [40, 80],
      securityLadderRates: [40, 80],
      stormClients: 200,
      stormGroupSize: 100,
      lagRate: 40,
      lagStopSeconds: 4,
      drainMs: 10_000,
      removalTrials: 1,
      removalMembers: 3,
      removalIntervalMs: 10,
      removalSeconds: 3,
      idleCpuSeconds: 2,
      limitsCallers: 8,
      limitsSenders: 64,
      limitsRounds: 1,
      limitsSeconds: 2,
      quietWaitSeconds: 0,
      profileSeconds: 0,
    };
  }
  return {
    quick,
    loadgens: 2,
    users: 5_000,
    conversations: 10_000,
    smallConversations: 100,
    ladderRates: [25, 50, 100, 200, 350, 500, 700, 1000, 1400, 2000, 2800, 4000, 5600, 8000, 11000, 16000, 22000, 32000],
    stepSeconds: 15,
    holdSeconds: 60,
    holdAttempts: 3,
    settleSeconds: 60,
    steadyRate: 1000,
    steadySeconds: 60,
    storedMessages: 1_000_000,
    preloadTimeoutSeconds: 7_200,
    historyMessages: 100_000,
    historySmall: 100,
    historyCalls: 11,
    groupSize: 1000,
    groupRates: [2, 5, 10, 20, 35, 50, 70, 100, 140, 200, 280, 400, 560, 800],
    adminCreations: 5_000,
    adminCallers: 20,
    adminStored: 1_000_000,
    idleConnections: 18_000,
    idleConversationsPerUser: 4,
    idleSettleSeconds: 60,
    // HAProxy needs two descriptors per proxied socket, under the machine's limit of 20,000.
    tlsIdleConnections: 9_000,
    // Every other step of ladderRates around the ceilings measured so far (1,400 msg/s).
    tlsLadderRates: [200, 500, 1000, 1400, 2000, 2800, 4000],
    securityLadderRates: [500, 1000, 1400, 2000, 2800, 4000],
    stormClients: 10_000,
    stormGroupSize: 1000,
    lagRate: 200,
    lagStopSeconds: 60,
    drainMs: 20_000,
    removalTrials: 3,
    removalMembers: 10,
    removalIntervalMs: 10,
    removalSeconds: 15,
    idleCpuSeconds: 60,
    limitsCallers: 32,
    limitsSenders: 2_000,
    limitsRounds: 3,
    limitsSeconds: 20,
    quietWaitSeconds: 120,
    profileSeconds: 20,
  };
}

/** `--name=value` for any numeric (or numeric list) setting; other flags are main's. */
export function applyOverrides(s: Settings, argv: string[]): Settings {
  const out: Record<string, unknown> = { ...s };
  for (const arg of argv) {
    const m = /^--([A-Za-z]+)=(.*)$/.exec(arg);
    if (!m || !(m[1]! in s)) continue;
    const [, name, value] = m as unknown as [string, string, string];
    const current = out[name];
    if (Array.isArray(current)) out[name] = value.split(',').map(Number);
    else if (typeof current === 'number') out[name] = Number(value);
    if (Array.isArray(out[name]) ? (out[name] as number[]).some((x) => !Number.isFinite(x)) : typeof out[name] === 'number' && !Number.isFinite(out[name])) {
      throw new Error(`--${name}=${value}: not a number`);
    }
  }
  return out as unknown as Settings;
}
