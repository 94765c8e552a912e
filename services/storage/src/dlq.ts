// The dead-letter command (`./parley dlq`, or `node dist/dlq.js` in the storage image):
//   dlq list   [--json]                                   what is parked, oldest first
//   dlq replay (--all | --topic T ... | --at P:O ...) [--json]  republish to the origin topics
// Signals and membership changes are replayed only when named with --at (see staleByNature).
// Configuration from the environment as for storage (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, KAFKA_SSL,
// KAFKA_SASL_*). Exit codes: 0 done, 64 bad usage, 78 bad configuration, 1 failure.
import { z } from 'zod';
import { listParked, messagesRecords, replayParked, topicNames, type ParkedRecord, type ReplaySelection, type TopicNames } from '@parley/bus';
import { ConfigError, env, kafkaConfigShape, kafkaSecurityFrom, loadConfig } from '@parley/core';

const dlqConfigSchema = z.object({
  KAFKA_BROKERS: env.list(),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{0,100}$/).default('parley.'),
  ...kafkaConfigShape,
});

const USAGE = `usage: dlq list [--json] [--max N]
       dlq replay (--all | --topic TOPIC ... | --at PARTITION:OFFSET ...) [--json] [--max N]`;

class UsageError extends Error {}

interface Args {
  command: 'list' | 'replay';
  json: boolean;
  max: number;
  selection: ReplaySelection;
  all: boolean;
}

export function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (command !== 'list' && command !== 'replay') throw new UsageError(command ? `unknown command ${command}` : 'a command is required');
  const args: Args = { command, json: false, max: 100_000, selection: { originTopics: [], positions: [] }, all: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!;
    const value = (): string => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--all') args.all = true;
    else if (flag === '--max') {
      args.max = Number(value());
      if (!Number.isInteger(args.max) || args.max < 1) throw new UsageError('--max must be a positive integer');
    } else if (flag === '--topic') args.selection.originTopics!.push(value());
    else if (flag === '--at') {
      const at = value();
      if (!/^\d+:\d+$/.test(at)) throw new UsageError(`--at ${at}: expected PARTITION:OFFSET`);
      args.selection.positions!.push(at);
    } else throw new UsageError(`unknown option ${flag}`);
  }
  if (command === 'replay') {
    const chosen = args.selection.originTopics!.length + args.selection.positions!.length;
    if (!args.all && chosen === 0) throw new UsageError('replay needs --all, --topic or --at (nothing is replayed by default)');
    if (args.all && chosen > 0) throw new UsageError('--all replays everything; drop --topic/--at or --all');
  } else if (args.all || args.selection.originTopics!.length + args.selection.positions!.length > 0) {
    throw new UsageError('list takes no selection');
  }
  return args;
}

/**
 * Signals (QoS 0) and membership changes are replayed only when named with --at: a typing
 * indicator is stale by the time anyone replays it, and a membership change applied late would
 * undo a newer one in the routers' and push's caches (every instance had it from the broadcast).
 */
export function staleByNature(topics: TopicNames, r: ParkedRecord): boolean {
  if (r.originTopic === topics.signals || r.originTopic === topics.membership) return true;
  if (r.originTopic !== topics.messages) return false;
  try {
    return messagesRecords.decode(r.value).kind === 'membership';
  } catch {
    return false; // a record this version cannot read is replayed for a version that can
  }
}

function line(r: ParkedRecord): string {
  const at = new Date(r.parkedAt).toISOString();
  return `${r.partition}:${r.offset}  ${at}  from ${r.originTopic}[${r.originPartition}]@${r.originOffset}  group ${r.group}  key ${r.key}  ${r.value.length} B  ${r.error}`;
}

function asJson(r: ParkedRecord): string {
  return JSON.stringify({ ...r, value: r.value.toString('base64') });
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`dlq: ${err.message}\n${USAGE}\n`);
    return 64;
  }
  const config = loadConfig(dlqConfigSchema);
  const options = { brokers: config.KAFKA_BROKERS, dlqTopic: topicNames(config.KAFKA_TOPIC_PREFIX).dlq, security: kafkaSecurityFrom(config), maxRecords: args.max };
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const records = args.command === 'list' ? await listParked(options) : await replayParked(options, { ...args.selection, exclude: (r) => staleByNature(topics, r) });
  for (const r of records) process.stdout.write(`${args.json ? asJson(r) : line(r)}\n`);
  if (!args.json) process.stderr.write(`${records.length} record(s) ${args.command === 'list' ? 'parked' : 'replayed'} (${options.dlqTopic})\n`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`dlq: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`);
      process.exit(err instanceof ConfigError ? 78 : 1);
    },
  );
}
