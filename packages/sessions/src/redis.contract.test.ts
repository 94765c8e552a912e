// The session-directory contract against a real Redis (REDIS_URL, set by the test set-up).
import { randomUUID } from 'node:crypto';
import { runSessionContract } from './contract';
import { RedisSessionDirectory } from './redis';

const url = process.env['REDIS_URL'];
if (!url) throw new Error('REDIS_URL is not set: run the suite with ./parley test');

runSessionContract('redis', async () => {
  const directory = new RedisSessionDirectory({ url, keyPrefix: `contract:${randomUUID()}:` });
  return {
    directory,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    close: () => directory.close(),
  };
});
