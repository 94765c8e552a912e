// Owns structured JSON logging (pino); every line carries the service and instance.
import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(service: string, instanceId: string, level: string = 'info'): Logger {
  return pino({
    level,
    base: { service, instance: instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Tokens and secrets never reach logs, whatever a caller passes in.
    redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'secret', '*.secret'], censor: '[redacted]' },
  });
}
