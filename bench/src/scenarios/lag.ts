// Kafka lag catch-up: under lagRate msg/s on the load shape, the consumer that writes the
// database (Parley's storage, the floor's store) is stopped for lagStopSeconds and started
// again; how fast does it work off the backlog (records/s), against the floor.
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../../../test/e2e/support/platform';
import { log, onCleanUp, sleep } from '../harness';
import { measure, type Context, type Measurement } from '../measure';
import { round } from '../procstats';
import type { Transport } from '../protocol';
import { SHAPE_FLOWS, closeShape, ensureShape, shapeLoad } from '../shape';

export interface LagRun {
  system: Transport;
  rate: number;
  stopSeconds: number;
  peakLag: number;
  /** From the restart until the lag was back under one second of traffic. */
  catchUpSeconds: number | undefined;
  /** Records consumed per second during the catch-up (backlog plus new traffic). */
  catchUpRate: number | undefined;
  measurement: Measurement;
  lagSeries: [number, number][];
}

async function lagRun(ctx: Context, system: 'parley' | 'floor', flows: string, load: string, group: { groupId: string; topic: string }, stop: () => Promise<void>, start: () => Promise<void>): Promise<LagRun> {
  const { lagRate: rate, lagStopSeconds: stopSeconds, quick } = ctx.settings;
  const pre = quick ? 2 : 10;
  const post = quick ? 8 : 40;
  const series: [number, number][] = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      series.push([round((Date.now() - t0) / 1000, 1), await ctx.lag.lag(group).catch(() => -1)]);
      await sleep(1_000);
    }
  })();
  const running = measure(ctx, system, flows, load, rate, pre + stopSeconds + post, 120_000);
  await sleep(pre * 1000);
  log(`lag (${system}): stopping the consumer for ${stopSeconds} s`);
  await stop();
  await sleep(stopSeconds * 1000);
  const restartAt = (Date.now() - t0) / 1000;
  await start();
  log(`lag (${system}): consumer back`);
  const measurement = await running;
  sampling = false;
  await sampler;
  const peakLag = Math.max(0, ...series.map(([, lag]) => lag));
  // Caught up: the backlog under one second of traffic, or under 5 % of its peak (commits trail a little).
  const caughtUp = series.find(([t, lag]) => t > restartAt && lag >= 0 && lag <= Math.max(rate, 0.05 * peakLag));
  const catchUpSeconds = caughtUp ? round(caughtUp[0] - restartAt, 1) : undefined;
  return {
    system,
    rate,
    stopSeconds,
    peakLag,
    catchUpSeconds,
    catchUpRate: catchUpSeconds && caughtUp ? round((peakLag - caughtUp[1]) / catchUpSeconds + rate, 0) : undefined,
    measurement,
    lagSeries: series,
  };
}

export async function lag(ctx: Context): Promise<LagRun[]> {
  const { platform } = ctx;
  await ensureShape(ctx, ['floor']);
  // Storage does two jobs: it consumes parley.messages and it answers the router's Membership lookups.
  // To stop only the consumer, a second storage instance serves gRPC while consuming topics
  // of another prefix (empty), and the router and connectors are pointed at it. The shape's
  // Parley sockets are closed meanwhile (the connectors restart) and opened again after.
  await closeShape(ctx, 'parley');
  const apiPrefix = `${platform.topicPrefix}api.`;
  const { ensureTopics, topicNames, TOPIC_KEYS } = await import('@parley/bus');
  const t = topicNames(apiPrefix);
  // Every topic storage reads or writes (the shape holds direct conversations only: no membership event goes astray).
  const apiTopics = TOPIC_KEYS.map((key) => t[key]);
  const brokers = ctx.infra.env.KAFKA_BROKERS.split(',');
  await ensureTopics(brokers, apiTopics.map((topic) => ({ topic, partitions: 1 })));
  onCleanUp(async () => {
    const admin = new Kafka({ clientId: 'bench-clean-up', brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: apiTopics }).catch(() => undefined);
    await admin.disconnect();
  });
  const apiPort = await freePort();
  await platform.spawnService('storage', { GRPC_PORT: String(apiPort), KAFKA_TOPIC_PREFIX: apiPrefix });
  const apiAddr = `127.0.0.1:${apiPort}`;
  const workers = platform.running('storage').filter((p) => p.env['KAFKA_TOPIC_PREFIX'] !== apiPrefix);
  for (const name of ['router', 'connector'] as const) {
    for (const proc of platform.running(name)) {
      await platform.stopProcess(proc);
      await platform.spawnService(name, { ...proc.env, STORAGE_ADDR: apiAddr });
    }
  }
  const shape = await ensureShape(ctx, ['parley', 'floor']);
  const runs: LagRun[] = [];
  runs.push(await lagRun(ctx, 'floor', SHAPE_FLOWS.floor, shapeLoad(shape), ctx.floor.groups[0]!, () => ctx.floor.stopStore(), () => ctx.floor.startStore()));
  const envs = workers.map((w) => w.env);
  runs.push(
    await lagRun(
      ctx,
      'parley',
      SHAPE_FLOWS.parley,
      shapeLoad(shape),
      { groupId: `${platform.topicPrefix}storage`, topic: topicNames(platform.topicPrefix).messages },
      async () => {
        for (const w of workers) await platform.stopProcess(w);
      },
      async () => {
        for (const env of envs) await platform.spawnService('storage', env);
      },
    ),
  );
  return runs;
}
