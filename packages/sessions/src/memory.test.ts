// The session-directory contract against the in-memory adapter, with a clock the test moves.
import { runSessionContract } from './contract';
import { MemorySessionDirectory } from './memory';

let now = 1_700_000_000_000;
runSessionContract('memory', async () => ({
  directory: new MemorySessionDirectory(() => now),
  advance: async (ms) => {
    now += ms;
  },
  close: async () => undefined,
}));
