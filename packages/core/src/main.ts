// Owns how a service process starts and dies: configuration errors name the
// variable and exit 78 (EX_CONFIG); anything else unexpected is logged and exits 1.
import { ConfigError } from './config';

export function runMain(service: string, start: () => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`${service}: unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}\n`);
    process.exit(1);
  });
  start().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`${service}: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
