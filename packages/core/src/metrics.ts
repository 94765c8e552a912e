// Owns the Prometheus registry and the metrics every service shares.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** Latency buckets, in seconds, for a messaging path measured in milliseconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const grpcServerHandled = new Counter({
  name: 'parley_grpc_server_handled_total',
  help: 'gRPC calls handled, by method and status code.',
  labelNames: ['method', 'code'] as const,
  registers: [registry],
});

export const grpcServerLatency = new Histogram({
  name: 'parley_grpc_server_handling_seconds',
  help: 'gRPC server handling time, by method.',
  labelNames: ['method'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const grpcServerShed = new Counter({
  name: 'parley_grpc_server_shed_total',
  help: 'gRPC calls refused before any work: past the concurrency limit (overloaded) or already past their deadline (expired).',
  labelNames: ['method', 'reason'] as const,
  registers: [registry],
});

export const grpcClientHandled = new Counter({
  name: 'parley_grpc_client_handled_total',
  help: 'gRPC calls made, by method and status code.',
  labelNames: ['method', 'code'] as const,
  registers: [registry],
});
