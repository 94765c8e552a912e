// The message-store contract against the in-memory adapter (the MongoDB adapter passes the same suite).
import { runStoreContract } from './contract';
import { MemoryMessageStore } from './memory';

runStoreContract('memory', async () => {
  const store = new MemoryMessageStore();
  return { store, close: () => store.close() };
});
