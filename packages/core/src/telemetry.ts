// Owns OpenTelemetry: starting the SDK (chosen by the standard OTEL_* variables)
// and carrying W3C trace context across gRPC metadata and Kafka record headers.
// When no exporter is configured nothing is loaded and every helper is a no-op.
import { appendFileSync } from 'node:fs';
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
// Type-only: erased at build time, so telemetry that is off loads no SDK code.
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';

export { SpanKind };
export type { Context, Span };

/** True when the environment asks for traces to be exported. */
export function telemetryEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER'];
  if (exporter === 'none') return false;
  return Boolean(exporter || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || env['PARLEY_TRACE_FILE']);
}

/**
 * Starts the SDK. PARLEY_TRACE_FILE additionally appends every finished span as one
 * JSON line to a file (used by tests and to read a trace without a collector).
 */
export async function startTelemetry(serviceName: string, env: NodeJS.ProcessEnv = process.env): Promise<() => Promise<void>> {
  if (!telemetryEnabled(env)) return async () => {};
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const { SimpleSpanProcessor, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { ExportResultCode } = await import('@opentelemetry/core');
  const processors = [];
  const traceFile = env['PARLEY_TRACE_FILE'];
  if (traceFile) {
    const fileExporter: SpanExporter = {
      export(spans: ReadableSpan[], done) {
        const lines = spans.map((span) =>
          JSON.stringify({
            service: serviceName,
            name: span.name,
            kind: span.kind,
            traceId: span.spanContext().traceId,
            spanId: span.spanContext().spanId,
            parentSpanId: span.parentSpanContext?.spanId,
            start: span.startTime,
            durationMs: span.duration[0] * 1e3 + span.duration[1] / 1e6,
            status: span.status.code,
            attributes: span.attributes,
          }),
        );
        appendFileSync(traceFile, lines.join('\n') + '\n');
        done({ code: ExportResultCode.SUCCESS });
      },
      shutdown: async () => {},
    };
    processors.push(new SimpleSpanProcessor(fileExporter));
  }
  const exporterName = env['OTEL_TRACES_EXPORTER'];
  const wantsStandardExporter = Boolean(exporterName || env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
  let sdk;
  if (wantsStandardExporter && processors.length === 0) {
    // Let the SDK pick the exporter from OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_*.
    sdk = new NodeSDK({ serviceName, instrumentations: [] });
  } else {
    if (wantsStandardExporter && exporterName === 'console') {
      const { ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
      processors.push(new BatchSpanProcessor(new ConsoleSpanExporter()));
    } else if (wantsStandardExporter) {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      processors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    }
    sdk = new NodeSDK({ serviceName, instrumentations: [], spanProcessors: processors });
  }
  sdk.start();
  return async () => {
    await sdk.shutdown();
  };
}

const tracer = () => trace.getTracer('parley');

/** Writes the current (or given) context into a carrier: gRPC metadata or Kafka headers. */
export function injectTraceContext(carrier: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  propagation.inject(ctx, carrier);
  return carrier;
}

/** Reads a context from a carrier whose values may be strings or Buffers (Kafka headers). */
export function extractTraceContext(carrier: Record<string, unknown> | undefined): Context {
  if (!carrier) return context.active();
  const normalized: Record<string, string> = {};
  for (const [key, value] of Object.entries(carrier)) {
    if (typeof value === 'string') normalized[key] = value;
    else if (Buffer.isBuffer(value)) normalized[key] = value.toString('utf8');
    else if (Array.isArray(value) && value.length > 0) normalized[key] = String(value[0]);
  }
  return propagation.extract(context.active(), normalized);
}

/** Runs fn inside a new span (child of parent, or of the active context), ending it however fn ends. */
export async function withSpan<T>(
  name: string,
  options: { kind?: SpanKind; parent?: Context; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, ...(options.attributes ? { attributes: options.attributes } : {}) }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    span.recordException(err instanceof Error ? err : new Error(String(err)));
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}
