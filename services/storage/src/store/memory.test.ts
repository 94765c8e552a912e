// The store contracts against the in-memory adapters (the MongoDB and Redis adapters pass the same suites).
import { runKeyStoreContract, runRegistersContract, runStoreContract } from './contract';
import { MemoryKeyStore } from './keys';
import { MemoryConversationStore, MemoryMessageLog, MemoryPositionStore } from './memory';
import { MemoryRegisters } from './registers';

runStoreContract('memory', async () => ({
  conversations: new MemoryConversationStore(),
  log: new MemoryMessageLog(),
  positions: new MemoryPositionStore(),
  close: async () => {},
}));

runRegistersContract('memory', async () => {
  const registers = new MemoryRegisters();
  return { registers, close: () => registers.close() };
});

runKeyStoreContract('memory', async () => ({ keys: new MemoryKeyStore(), close: async () => {} }));
