// Baseline (c), the floor: Parley's chain of hops with no logic in any of them, in processes
// like Parley's: edge (WebSocket in and out, gRPC client and server; as many edge processes as
// Parley has connectors) -> hop (gRPC server, Kafka produce) -> store (Kafka consume, one
// MongoDB insert per batch, Kafka produce) -> push (Kafka consume, one gRPC Deliver per edge
// per batch) -> edge. Kafka goes through @parley/bus, the adapter Parley uses, so the floor
// differs from Parley by Parley's logic (auth, membership, dedupe, sequencing, sessions,
// acks), not by its transport. The floor has no session directory: a sender names each
// receiver as "<edge>:<device>" and push sends it to that edge.
// Role and settings come from the environment (FLOOR_ROLE, ports, addresses, names).
import * as grpc from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { WebSocketServer, type WebSocket } from 'ws';
import { KafkaBus } from '@parley/bus';
import { createLogger } from '@parley/core';

type Unary = (request: Buffer, callback: (err: grpc.ServiceError | null, response?: Buffer) => void) => void;
const bytes = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (name: string) => ({
  path: `/floor.Floor/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: bytes.serialize,
  requestDeserialize: bytes.deserialize,
  responseSerialize: bytes.serialize,
  responseDeserialize: bytes.deserialize,
});
const floorService = { Route: method('Route'), Deliver: method('Deliver') } as grpc.ServiceDefinition;
const FloorClient = grpc.makeGenericClientConstructor(floorService, 'Floor');
const EMPTY = Buffer.alloc(0);

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

function client(address: string): Record<'Route' | 'Deliver', Unary> {
  return new FloorClient(address, grpc.credentials.createInsecure()) as unknown as Record<'Route' | 'Deliver', Unary>;
}

async function serve(port: number, handlers: Partial<Record<'Route' | 'Deliver', (request: Buffer) => Promise<void>>>): Promise<void> {
  const server = new grpc.Server();
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(handlers)) {
    impl[name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      void fn(call.request).then(
        () => callback(null, EMPTY),
        (err: unknown) => callback({ code: grpc.status.UNAVAILABLE, details: String(err) } as grpc.ServiceError),
      );
  }
  server.addService(floorService, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
}

function bus(role: string): KafkaBus {
  return new KafkaBus({ brokers: env('KAFKA_BROKERS').split(','), clientId: `floor-${role}`, log: createLogger(`floor-${role}`, role, 'warn') });
}

interface Envelope {
  to: string[];
  b: string;
  k: string;
}

/** "<edge>:<device>": the edge index and the device key. */
function splitAddress(address: string): [number, string] {
  const colon = address.indexOf(':');
  return [Number(address.slice(0, colon)), address.slice(colon + 1)];
}

async function edge(): Promise<void> {
  const hop = client(env('HOP_ADDR'));
  const sockets = new Map<string, WebSocket>();
  await serve(Number(env('GRPC_PORT')), {
    // Envelopes addressed to this edge's devices only (push split them), `to` as bare device keys.
    Deliver: async (request) => {
      for (const envelope of JSON.parse(request.toString()) as Envelope[]) {
        const frame = JSON.stringify({ t: 'm', b: envelope.b });
        for (const id of envelope.to) sockets.get(id)?.send(frame);
      }
    },
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(env('WS_PORT')), perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'http://floor').searchParams.get('id') ?? '';
    sockets.set(id, ws);
    ws.on('close', () => sockets.get(id) === ws && sockets.delete(id));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { c: string; k: string; to: string[]; b: string };
      hop.Route(Buffer.from(JSON.stringify({ to: frame.to, b: frame.b, k: frame.k })), (err) => ws.send(JSON.stringify(err ? { t: 'e', c: frame.c } : { t: 'a', c: frame.c })));
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
}

async function hop(): Promise<void> {
  const kafka = bus('hop');
  await kafka.connect();
  const topic = env('MESSAGES_TOPIC');
  await serve(Number(env('GRPC_PORT')), {
    Route: async (request) => {
      const { k } = JSON.parse(request.toString()) as Envelope;
      await kafka.publish(topic, [{ key: k, value: request }]);
    },
  });
}

async function store(): Promise<void> {
  const kafka = bus('store');
  await kafka.connect();
  const mongo = await MongoClient.connect(env('MONGO_URL'));
  const messages = mongo.db(env('MONGO_DB')).collection<{ _id: string; value: string }>('messages');
  const deliveries = env('DELIVERIES_TOPIC');
  await kafka.subscribe({
    groupId: `${env('MESSAGES_TOPIC')}-store`,
    topic: env('MESSAGES_TOPIC'),
    concurrency: 8,
    handler: async (batch) => {
      const docs = batch.records.map((r) => ({ _id: `${r.partition}-${r.offset}`, value: r.value.toString() }));
      await messages.insertMany(docs, { ordered: false }).catch((err: { code?: number }) => {
        if (err.code !== 11000) throw err; // a replayed batch: already stored
      });
      await kafka.publish(deliveries, batch.records.map((r) => ({ key: r.key, value: r.value })));
    },
  });
}

async function push(): Promise<void> {
  const kafka = bus('push');
  await kafka.connect();
  const edges = env('EDGE_ADDRS').split(',').map((address) => client(address));
  await kafka.subscribe({
    groupId: `${env('DELIVERIES_TOPIC')}-push`,
    topic: env('DELIVERIES_TOPIC'),
    concurrency: 8,
    handler: async (batch) => {
      // One Deliver per edge per batch, each with the envelopes' receivers on that edge.
      const perEdge = edges.map((): Envelope[] => []);
      for (const r of batch.records) {
        const envelope = JSON.parse(r.value.toString()) as Envelope;
        const split = edges.map((): string[] => []);
        for (const address of envelope.to) {
          const [index, key] = splitAddress(address);
          split[index]?.push(key);
        }
        split.forEach((to, i) => to.length > 0 && perEdge[i]!.push({ to, b: envelope.b, k: envelope.k }));
      }
      await Promise.all(
        perEdge.map((envelopes, i) =>
          envelopes.length === 0
            ? Promise.resolve()
            : new Promise<void>((resolve, reject) => edges[i]!.Deliver(Buffer.from(JSON.stringify(envelopes)), (err) => (err ? reject(err) : resolve()))),
        ),
      );
    },
  });
}

const roles: Record<string, () => Promise<void>> = { edge, hop, store, push };
const role = env('FLOOR_ROLE');
roles[role]!().then(
  () => process.stdout.write('ready\n'),
  (err: unknown) => {
    process.stderr.write(`floor ${role}: ${String((err as Error).stack ?? err)}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
