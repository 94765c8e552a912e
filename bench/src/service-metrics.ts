// Owns reading a Parley service's own /metrics in the bench: its text, the V8 heap in use, and
// what its gRPC server did over a window (calls per method and status, time spent in them, calls
// shed before any work). Read before and after a scenario, the difference says which method the
// time went to and whether callers were refused.
import type { ServiceProcess } from '../../test/e2e/support/platform';
import { round } from './procstats';

/** A service's Prometheus page (its ops port, HTTP_PORT). */
export async function metricsText(httpPort: number, timeoutMs = 5_000): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  return res.text();
}

/** The service's V8 heap in use (prom-client's default metrics), MB. */
export async function heapMb(service: ServiceProcess): Promise<number> {
  const line = (await metricsText(service.httpPort)).split('\n').find((l) => l.startsWith('nodejs_heap_size_used_bytes '));
  return line ? round(Number(line.split(' ')[1]) / 2 ** 20, 1) : 0;
}

export interface MethodStats {
  calls: number;
  /** Calls that ended in an error status (code other than OK). */
  errors: number;
  seconds: number;
  shed: number;
}

export type GrpcStats = Record<string, MethodStats>;

const LABELS = /\{([^}]*)\}/;

function labelsOf(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (LABELS.exec(line)?.[1] ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1).replace(/^"|"$/g, '');
  }
  return out;
}

/** Parses the three parley_grpc_server_* families of a Prometheus text page. */
export function parseGrpcStats(text: string): GrpcStats {
  const stats: GrpcStats = {};
  const of = (method: string) => (stats[method] ??= { calls: 0, errors: 0, seconds: 0, shed: 0 });
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    if (line.startsWith('parley_grpc_server_handled_total{')) {
      const l = labelsOf(line);
      const m = of(l['method'] ?? '?');
      m.calls += value;
      if (l['code'] !== undefined && l['code'] !== 'OK' && l['code'] !== '0') m.errors += value;
    } else if (line.startsWith('parley_grpc_server_handling_seconds_sum{')) {
      of(labelsOf(line)['method'] ?? '?').seconds += value;
    } else if (line.startsWith('parley_grpc_server_shed_total{')) {
      of(labelsOf(line)['method'] ?? '?').shed += value;
    }
  }
  return stats;
}

export async function grpcStats(service: ServiceProcess): Promise<GrpcStats> {
  try {
    return parseGrpcStats(await metricsText(service.httpPort));
  } catch {
    return {};
  }
}

/** after − before, per method, with the mean call time in ms; methods with no calls left out. */
export function grpcStatsDelta(before: GrpcStats, after: GrpcStats): Record<string, MethodStats & { meanMs: number }> {
  const out: Record<string, MethodStats & { meanMs: number }> = {};
  for (const [method, a] of Object.entries(after)) {
    const b = before[method] ?? { calls: 0, errors: 0, seconds: 0, shed: 0 };
    const calls = a.calls - b.calls;
    const shed = a.shed - b.shed;
    if (calls <= 0 && shed <= 0) continue;
    const seconds = Math.round((a.seconds - b.seconds) * 1000) / 1000;
    out[method] = { calls, errors: a.errors - b.errors, seconds, shed, meanMs: calls > 0 ? Math.round((seconds / calls) * 1e5) / 100 : 0 };
  }
  return out;
}
