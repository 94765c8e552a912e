// The failure suite, part 1: processes die. Two instances of every service on
// infrastructure of its own; SDK clients send a steady load over 1:1 and group
// conversations while connectors, routers, storage and push instances are SIGKILLed at
// several moments, and a third storage instance joins mid-stream. Each scenario prints one
// table row; passing means 0 acked messages lost, 0 duplicated, 0 reordered as the
// application sees them, and every device converged. Part 2 (infra.test.ts) stops servers.
// Run alone: ./parley test --selectProjects failure --runInBand
import { at, cluster, expectClean, killAndRestart, scenario, useFailureCluster } from './support/suite';

useFailureCluster('failure suite, part 1: processes');


it('baseline: no failure', async () => {
  expectClean(await scenario('baseline', []));
});

it('SIGKILL a connector (twice, each instance): its clients move to the other', async () => {
  expectClean(await scenario('kill connector', [{ atMs: at(0.2), run: killAndRestart('connector', 0, 1_500) }, { atMs: at(0.6), run: killAndRestart('connector', 1, 1_500) }]));
});

it('SIGKILL a router at several moments', async () => {
  expectClean(
    await scenario('kill router', [
      { atMs: at(0.15), run: killAndRestart('router', 0, 500) },
      { atMs: at(0.5), run: killAndRestart('router', 1, 500) },
      { atMs: at(0.8), run: killAndRestart('router', 0, 0) },
    ]),
  );
});

it('SIGKILL a storage at several moments', async () => {
  expectClean(
    await scenario('kill storage', [
      { atMs: at(0.15), run: killAndRestart('storage', 0, 1_000) },
      { atMs: at(0.55), run: killAndRestart('storage', 1, 1_000) },
    ]),
  );
});

it('SIGKILL a push at several moments', async () => {
  expectClean(
    await scenario('kill push', [
      { atMs: at(0.15), run: killAndRestart('push', 0, 1_000) },
      { atMs: at(0.55), run: killAndRestart('push', 1, 1_000) },
    ]),
  );
});

it('add a third storage mid-stream (rebalance)', async () => {
  expectClean(
    await scenario('add storage', [
      {
        atMs: at(0.3),
        run: async () => {
          await cluster().addStorage();
        },
      },
    ]),
  );
});
