export type { SessionDirectory, SessionRecord } from './port';
export { MemorySessionDirectory } from './memory';
export { RedisSessionDirectory, type RedisSessionDirectoryOptions } from './redis';
