// End to end, for operators: health over gRPC and HTTP, metrics, configuration
// errors that name the variable, graceful SIGTERM, and one trace across all four services.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { callUnary, createApiClient } from '@parley/core';
import { parleyGrpc } from '@parley/proto';
import { TestClient } from './support/client';
import { Platform, REPO_ROOT } from './support/platform';

jest.setTimeout(180_000);

interface SpanLine {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  durationMs: number;
}

const traceFile = path.join(mkdtempSync(path.join(tmpdir(), 'parley-trace-')), 'spans.jsonl');
let platform: Platform;

beforeAll(async () => {
  platform = await new Platform({ partitions: 2, env: { PARLEY_TRACE_FILE: traceFile, GRPC_REFLECTION: 'true' } }).start();
});

afterAll(async () => {
  await platform?.stop();
});

it('serves grpc.health.v1 and /metrics on every service', async () => {
  const Health = parleyGrpc().grpc.health.v1.Health;
  for (const [service, address] of [
    ['parley.v1.Storage', platform.storageAddr],
    ['parley.v1.Router', platform.routerAddr],
  ] as const) {
    const client = createApiClient(Health, address, platform.apiOptions(service === 'parley.v1.Storage' ? 'storage' : 'router'));
    const overall = await callUnary<{ status: string }>('Health.Check', 5_000, (md, opts, cb) => client.check({ service: '' }, md, opts, cb));
    const named = await callUnary<{ status: string }>('Health.Check', 5_000, (md, opts, cb) => client.check({ service }, md, opts, cb));
    await expect(callUnary('Health.Check', 5_000, (md, opts, cb) => client.check({ service: 'no.such.Service' }, md, opts, cb))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect([overall.status, named.status]).toEqual(['SERVING', 'SERVING']);
    client.close();
  }
  for (const proc of platform.processes) {
    const metrics = await (await fetch(`http://127.0.0.1:${proc.httpPort}/metrics`)).text();
    expect(metrics).toContain('process_cpu_seconds_total');
    expect((await fetch(`http://127.0.0.1:${proc.httpPort}/healthz`)).status).toBe(200);
  }
});

it('refuses to start with a bad configuration and names the variable', async () => {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'services', 'storage', 'dist', 'main.js')], {
    env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: '127.0.0.1:1', MONGO_URL: 'http://not-mongo', GRPC_PORT: 'seventy' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code).toBe(78);
  expect(stderr).toContain('MONGO_URL');
  expect(stderr).toContain('GRPC_PORT');
});

it('carries one trace from the sending socket through router, Kafka, storage, push and back to the connector', async () => {
  const a = `t-${randomUUID()}`;
  const b = `t-${randomUUID()}`;
  const conversationId = await platform.createDirect(a, b);
  const sender = await TestClient.connect(platform.wsUrl, platform.token(a, 'd'), a, 'd');
  const receiver = await TestClient.connect(platform.wsUrl, platform.token(b, 'd'), b, 'd');
  expect((await sender.send(conversationId, 'traced')).type).toBe('ack');
  await receiver.waitFor(() => receiver.messages(conversationId).length === 1);
  // Spans are written when they end; push's fan-out span ends after the connector's Deliver.
  let trace: SpanLine[] = [];
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const spans = existsSync(traceFile)
      ? readFileSync(traceFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as SpanLine)
      : [];
    const root = spans.find((s) => s.name === 'ws.send' && s.service === 'parley-connector');
    trace = root ? spans.filter((s) => s.traceId === root.traceId) : [];
    if (new Set(trace.map((s) => s.service)).size === 4 && trace.some((s) => s.name === 'Connector.Deliver' && s.service === 'parley-connector') && trace.some((s) => s.name === 'push.fanout')) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await sender.close();
  await receiver.close();
  const services = new Set(trace.map((s) => s.service));
  expect([...services].sort()).toEqual(['parley-connector', 'parley-push', 'parley-router', 'parley-storage']);
  const names = trace.map((s) => `${s.service}:${s.name}`);
  for (const expected of ['parley-connector:ws.send', 'parley-router:Router.SendMany', 'parley-storage:storage.store', 'parley-push:push.fanout', 'parley-connector:Connector.Deliver']) {
    expect(names).toContain(expected);
  }
  // Every span but the root has its parent in the same trace.
  const ids = new Set(trace.map((s) => s.spanId));
  expect(trace.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
  process.stdout.write(`one trace (${trace.length} spans):\n${trace.map((s) => `  ${s.service.padEnd(17)} ${s.name.padEnd(36)} ${s.durationMs.toFixed(2)} ms`).join('\n')}\n`);
});

it('stops every service cleanly on SIGTERM (exit 0)', async () => {
  const codes: (number | null)[] = [];
  for (const proc of [...platform.processes].reverse()) codes.push(await platform.stopProcess(proc, 'SIGTERM'));
  expect(codes).toEqual(platform.processes.map(() => 0));
});
