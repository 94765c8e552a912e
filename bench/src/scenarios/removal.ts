// Membership removal propagation, black-box: a member of a group has a device on each
// connector (each connector balances over every router), and each device sends one message
// every removalIntervalMs. Storage.RemoveMembers removes the member; the devices go on sending
// for removalSeconds. From every answer's arrival time: when the last `ack` came and when the
// first PERMISSION_DENIED `error` came, counted from RemoveMembers returning; and the acks,
// refusals and later `rejected` frames (storage refusing a send that was acked) after it.
import { log, sleep } from '../harness';
import type { Context } from '../measure';
import { round } from '../procstats';
import { epochNow, type DeviceSpec, type ProbeSend } from '../protocol';
import { ADDRESSES, parleyUrl } from '../shape';
import { StorageApi } from '../storage-api';

export interface RemovalTrial {
  members: number;
  /** RemoveMembers: how long the call took. */
  callMs: number;
  sent: number;
  /** Sends made before RemoveMembers returned, and what they got. */
  before: { sent: number; acked: number; refused: number };
  /** Sends made after it returned. */
  after: { sent: number; acked: number; refusedPermission: number; refusedOther: number; unanswered: number; rejected: number };
  /** Rejected (after an ack) among the sends made before the call returned. */
  rejectedBefore: number;
  /** ms from RemoveMembers returning: the last ack to arrive (any send), the first PERMISSION_DENIED. */
  lastAckMs: number | undefined;
  firstRefusalMs: number | undefined;
  /** ms from RemoveMembers returning until the last send that was acked was sent. */
  lastAckedSendMs: number | undefined;
  /** Acks that arrived after the first refusal (another router still accepting). */
  acksAfterFirstRefusal: number;
  /** The figure: ms from RemoveMembers returning until every send was refused (the last ack, or 0 when none came after). */
  propagationMs: number | undefined;
  errors: Record<string, number>;
}

export interface RemovalResult {
  routers: number;
  connectors: number;
  intervalMs: number;
  trials: RemovalTrial[];
  /** Median over the trials. */
  propagationMs: number | undefined;
}

function trialOf(sends: ProbeSend[], calledAt: number, returnedAt: number, members: number): RemovalTrial {
  const before = sends.filter((s) => s.sentAt < returnedAt);
  const after = sends.filter((s) => s.sentAt >= returnedAt);
  const errors: Record<string, number> = {};
  for (const s of sends) if (s.answer !== 'ack') errors[s.answer] = (errors[s.answer] ?? 0) + 1;
  const acks = sends.filter((s) => s.answer === 'ack');
  const refusals = sends.filter((s) => s.answer === 'PERMISSION_DENIED').sort((a, b) => a.answeredAt - b.answeredAt);
  const lastAck = Math.max(...acks.map((s) => s.answeredAt));
  const lastAckedSend = Math.max(...acks.map((s) => s.sentAt));
  const firstRefusal = refusals[0]?.answeredAt;
  const rel = (t: number | undefined) => (t === undefined || !Number.isFinite(t) ? undefined : round(t - returnedAt, 1));
  const lastAckMs = rel(lastAck);
  return {
    members,
    callMs: round(returnedAt - calledAt, 1),
    sent: sends.length,
    before: { sent: before.length, acked: before.filter((s) => s.answer === 'ack').length, refused: before.filter((s) => s.answer !== 'ack' && s.answer !== 'none').length },
    after: {
      sent: after.length,
      acked: after.filter((s) => s.answer === 'ack').length,
      refusedPermission: after.filter((s) => s.answer === 'PERMISSION_DENIED').length,
      refusedOther: after.filter((s) => s.answer !== 'ack' && s.answer !== 'PERMISSION_DENIED' && s.answer !== 'none').length,
      unanswered: after.filter((s) => s.answer === 'none').length,
      rejected: after.filter((s) => s.rejected).length,
    },
    rejectedBefore: before.filter((s) => s.rejected).length,
    lastAckMs,
    firstRefusalMs: rel(firstRefusal),
    lastAckedSendMs: rel(lastAckedSend),
    acksAfterFirstRefusal: firstRefusal === undefined ? 0 : acks.filter((s) => s.answeredAt > firstRefusal).length,
    propagationMs: refusals.length === 0 ? undefined : Math.max(0, lastAckMs ?? 0),
    errors,
  };
}

export async function removal(ctx: Context): Promise<RemovalResult> {
  const { removalTrials, removalMembers, removalIntervalMs, removalSeconds } = ctx.settings;
  const api = new StorageApi(ctx.platform);
  const connectors = ctx.platform.running('connector').length;
  const routers = ctx.platform.running('router').length;
  const trials: RemovalTrial[] = [];
  for (let trial = 0; trial < removalTrials; trial++) {
    const tag = `rm${trial}${Math.random().toString(36).slice(2, 6)}`;
    const users = Array.from({ length: removalMembers }, (_, i) => `${tag}u${i}`);
    const victim = users[0]!;
    const conversationId = await api.createGroup(users);
    // The removed user: one device on each connector (devices d0, d1), on worker 0 with the probe.
    const specs: DeviceSpec[] = Array.from({ length: Math.max(1, Math.min(connectors, 2)) }, (_, c) => ({
      key: `rm-${tag}-${c}`,
      transport: 'parley' as const,
      url: parleyUrl(ctx, c, victim, `d${c}`),
      worker: 0,
    }));
    const opened = await ctx.loadgens.open(specs, ADDRESSES);
    if (opened.failed > 0) throw new Error(`removal: ${opened.failed} sockets failed to open: ${opened.firstError}`);
    await ctx.loadgens.first({ op: 'probe-start', keys: specs.map((s) => s.key), conversationId, intervalMs: removalIntervalMs, tag });
    await sleep(ctx.settings.quick ? 1_000 : 3_000);
    const calledAt = epochNow();
    await api.removeMembers(conversationId, [victim]);
    const returnedAt = epochNow();
    await sleep(removalSeconds * 1000);
    const sends = await ctx.loadgens.first<ProbeSend[]>({ op: 'probe-stop' });
    // Answers still in flight at the stop are left as they are ("none").
    await ctx.loadgens.closeDevices(`rm-${tag}`);
    const t = trialOf(sends, calledAt, returnedAt, removalMembers);
    log(
      `removal ${trial + 1}/${removalTrials}: RemoveMembers ${t.callMs} ms; after it ${t.after.sent} sends: ${t.after.acked} acked, ${t.after.refusedPermission} PERMISSION_DENIED, ${t.after.refusedOther} other, ${t.after.rejected} rejected later; ` +
        `last ack +${t.lastAckMs} ms, first refusal +${t.firstRefusalMs} ms`,
    );
    trials.push(t);
  }
  const figures = trials.map((t) => t.propagationMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  return {
    routers,
    connectors,
    intervalMs: removalIntervalMs,
    trials,
    propagationMs: figures.length === trials.length && figures.length > 0 ? figures[Math.floor(figures.length / 2)] : undefined,
  };
}
