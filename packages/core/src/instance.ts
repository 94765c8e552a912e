// Owns how a process names itself when INSTANCE_ID is not set.
import { hostname } from 'node:os';

export function instanceIdFrom(configured: string | undefined): string {
  return configured ?? `${hostname()}-${process.pid}`;
}
