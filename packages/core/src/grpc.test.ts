import type * as grpc from '@grpc/grpc-js';
import { parleyGrpc } from '@parley/proto';
import type { ParleyError } from './errors';
import { CallGate, GrpcServer, callUnary, createClient, grpcTarget, unaryHandler } from './grpc';
import { createLogger } from './log';

describe('grpcTarget', () => {
  it('passes single addresses and explicit schemes through, and turns a list into an ipv4/ipv6 target', () => {
    expect(grpcTarget('storage:7002')).toBe('storage:7002');
    expect(grpcTarget('dns:///storage-headless:7002')).toBe('dns:///storage-headless:7002');
    expect(grpcTarget(' 127.0.0.1:7001, 127.0.0.2:7001 ')).toBe('ipv4:127.0.0.1:7001,127.0.0.2:7001');
    expect(grpcTarget('[::1]:7001,[::1]:7002')).toBe('ipv6:[::1]:7001,[::1]:7002');
    expect(grpcTarget('ipv4:127.0.0.1:1,127.0.0.1:2')).toBe('ipv4:127.0.0.1:1,127.0.0.1:2');
  });
});

describe('GrpcServer admission control', () => {
  const log = createLogger('test', 'test-0', 'silent');

  it('refuses calls past maxConcurrentCalls with a retryable UNAVAILABLE at once, and admits again when calls finish', async () => {
    const server = new GrpcServer(log, { reflection: false, maxConcurrentCalls: 2, security: { mode: 'insecure' } });
    const release: (() => void)[] = [];
    let started = 0;
    const handlers = {
      GetConversation: unaryHandler('Storage.GetConversation', log, async () => {
        started++;
        await new Promise<void>((resolve) => release.push(resolve));
        return { conversationId: 'c', kind: 'CONVERSATION_KIND_GROUP', createdAt: '0', lastSeq: '0', memberCount: 0 };
      }),
    };
    server.addService('parley.v1.Storage', parleyGrpc().parley.v1.Storage.service, handlers as unknown as grpc.UntypedServiceImplementation);
    const port = await server.listen('127.0.0.1', 0);
    server.setServing(true);
    const client = createClient(parleyGrpc().parley.v1.Storage, `127.0.0.1:${port}`, { mode: 'insecure' }, 'storage');
    const call = () =>
      callUnary<unknown>('Storage.GetConversation', 10_000, (md, opts, cb) => client.getConversation({ conversationId: 'c' }, md, opts, cb)).then(
        () => 'OK',
        (err: ParleyError) => `${err.code}:${String(err.retryable)}`,
      );
    try {
      const first = [call(), call()];
      while (started < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      // Both slots are taken: the third call is refused without reaching the handler.
      expect(await call()).toBe('UNAVAILABLE:true');
      expect(started).toBe(2);
      release.splice(0).forEach((r) => r());
      expect(await Promise.all(first)).toEqual(['OK', 'OK']);
      // Slots came back: a call is admitted again.
      const again = call();
      while (started < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      release.splice(0).forEach((r) => r());
      expect(await again).toBe('OK');
    } finally {
      client.close();
      await server.stop(1_000);
    }
  });

  it('refuses a call whose deadline passed before it started, without running it', () => {
    const gate = new CallGate(10);
    let ran = false;
    let answered = false;
    const call = { cancelled: false, getDeadline: () => new Date(Date.now() - 1) } as unknown as grpc.ServerUnaryCall<unknown, unknown>;
    const refused = gate.admit(call, () => (answered = true), () => (ran = true));
    expect(refused).toBe('expired');
    expect(ran).toBe(false);
    expect(answered).toBe(false);
    expect(gate.inflight).toBe(0);
  });
});
