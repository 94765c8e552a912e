// Composition root of the connector service.
import { hostname } from 'node:os';
import {
  Counter,
  Gauge,
  GrpcServer,
  Lifecycle,
  TokenVerifier,
  CallQueue,
  callUnary,
  createClient,
  createLogger,
  grpcSecurityFrom,
  instanceIdFrom,
  loadConfig,
  redisConnectionFrom,
  registry,
  runMain,
  startOpsServer,
  startTelemetry,
  unaryHandler,
} from '@parley/core';
import { parleyGrpc, type ConnectorHandlers, type ListConversationsResponse__Output, type MessagesResponse__Output, type ReceiptBatchResponse__Output, type SendBatchResponse__Output, type SendManyResponse__Output } from '@parley/proto';
import { RedisSessionDirectory } from '@parley/sessions';
import { connectorConfigSchema } from './config';
import { batchOrOneByOne } from './fallback';
import { SessionCore, type Upstream } from './session-core';
import { createWsServer, wsSecurityFrom } from './ws-server';
import { WsListener } from './ws-transport';

runMain('parley-connector', async () => {
  const config = loadConfig(connectorConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('connector', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-connector');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const api = parleyGrpc().parley.v1;
  const security = grpcSecurityFrom(config);
  const wsSecurity = wsSecurityFrom(config);
  const router = createClient(api.Router, config.ROUTER_ADDR, security, 'router');
  const storage = createClient(api.Storage, config.STORAGE_ADDR, security, 'storage');
  // At most STORAGE_MAX_INFLIGHT storage calls at once, the next STORAGE_MAX_QUEUED waiting (call-queue.ts).
  const storageCalls = new CallQueue({ maxInflight: config.STORAGE_MAX_INFLIGHT, maxQueued: config.STORAGE_MAX_QUEUED, retryAfterMs: 1_000, name: 'storage' });
  const upstream: Upstream = {
    sendMany: (batches) =>
      batchOrOneByOne(
        () => callUnary<SendManyResponse__Output>('Router.SendMany', config.ROUTER_DEADLINE_MS, (md, opts, cb) => router.sendMany({ batches }, md, opts, cb)),
        batches,
        (req) => callUnary<SendBatchResponse__Output>('Router.SendBatch', config.ROUTER_DEADLINE_MS, (md, opts, cb) => router.sendBatch(req, md, opts, cb)),
      ),
    sync: (req) => storageCalls.run(config.STORAGE_DEADLINE_MS, (ms) => callUnary<MessagesResponse__Output>('Storage.Sync', ms, (md, opts, cb) => storage.sync(req, md, opts, cb))),
    history: (req) => storageCalls.run(config.STORAGE_DEADLINE_MS, (ms) => callUnary<MessagesResponse__Output>('Storage.History', ms, (md, opts, cb) => storage.history(req, md, opts, cb))),
    receipts: (receipts) =>
      batchOrOneByOne(
        () => callUnary<ReceiptBatchResponse__Output>('Router.ReceiptBatch', config.ROUTER_DEADLINE_MS, (md, opts, cb) => router.receiptBatch({ receipts }, md, opts, cb)),
        receipts,
        (req) => callUnary('Router.Receipt', config.ROUTER_DEADLINE_MS, (md, opts, cb) => router.receipt(req, md, opts, cb)),
      ),
    signal: (req) => callUnary('Router.Signal', config.ROUTER_DEADLINE_MS, (md, opts, cb) => router.signal(req, md, opts, cb)),
    conversations: (req) =>
      storageCalls.run(config.STORAGE_DEADLINE_MS, (ms) =>
        callUnary<ListConversationsResponse__Output>('Storage.ListConversations', ms, (md, opts, cb) => storage.listConversations(req, md, opts, cb)),
      ),
  };
  const tokens = new TokenVerifier({
    secrets: config.JWT_SECRETS ?? [],
    jwksUrl: config.JWT_JWKS_URL,
    algorithms: config.JWT_ALGORITHMS,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    type: config.JWT_TYPE,
  });
  const directory = new RedisSessionDirectory({ ...redisConnectionFrom(config), keyPrefix: config.REDIS_KEY_PREFIX });

  const connections = new Gauge({ name: 'parley_connector_connections', help: 'Open client WebSocket sessions.', registers: [registry] });
  const framesIn = new Counter({ name: 'parley_connector_frames_in_total', help: 'Client frames received, by type.', labelNames: ['type'] as const, registers: [registry] });
  const frameErrors = new Counter({ name: 'parley_connector_frame_errors_total', help: 'Error frames sent, by code.', labelNames: ['code'] as const, registers: [registry] });
  const delivered = new Counter({ name: 'parley_connector_delivered_total', help: 'msg frames written to sockets.', registers: [registry] });
  const qos = new Counter({
    name: 'parley_connector_qos_events_total',
    help: 'QoS events: msg frames retransmitted, unacked msgs abandoned to sync, QoS 0 frames dropped on slow sockets.',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  const upgradesRejected = new Counter({ name: 'parley_connector_upgrades_rejected_total', help: 'WebSocket upgrades refused, by HTTP status.', labelNames: ['status'] as const, registers: [registry] });

  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS, security });
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);
  const advertiseAddr = config.ADVERTISE_ADDR ?? `${hostname()}:${grpcPort}`;

  const core = new SessionCore(
    {
      connectorId: instanceId,
      advertiseAddr,
      maxFrameBytes: config.MAX_FRAME_BYTES,
      maxConnections: config.MAX_CONNECTIONS,
      maxDevicesPerUser: config.MAX_DEVICES_PER_USER,
      maxInflightPerSocket: config.MAX_INFLIGHT_PER_SOCKET,
      connectionSendLimit: { ratePerSec: config.CONNECTION_SEND_RATE_PER_SEC, burst: config.CONNECTION_SEND_BURST },
      maxBufferedBytes: config.MAX_BUFFERED_BYTES,
      heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
      sessionTtlMs: config.SESSION_TTL_MS,
      retransmitBaseMs: config.RETRANSMIT_BASE_MS,
      retransmitAttempts: config.RETRANSMIT_ATTEMPTS,
      maxUnackedPerSocket: config.MAX_UNACKED_PER_SOCKET,
      receiptFlushMs: config.RECEIPT_FLUSH_MS,
      drainWindowMs: config.DRAIN_WINDOW_MS,
    },
    (token) => tokens.verify(token),
    directory,
    upstream,
    log,
    {
      connections: (delta) => connections.inc(delta),
      frameIn: (type) => framesIn.inc({ type }),
      frameError: (code) => frameErrors.inc({ code }),
      delivered: (n) => delivered.inc(n),
      retransmitted: (n) => qos.inc({ event: 'retransmitted' }, n),
      abandoned: (n) => qos.inc({ event: 'abandoned' }, n),
      qos0Dropped: (n) => qos.inc({ event: 'qos0_dropped' }, n),
    },
  );
  const ws = new WsListener(
    core,
    { allowedOrigins: config.ALLOWED_ORIGINS, maxFrameBytes: config.MAX_FRAME_BYTES, upgradesPerIpPerSec: config.UPGRADES_PER_IP_PER_SEC, upgradeBurstPerIp: config.UPGRADE_BURST_PER_IP, trustedProxies: config.TRUSTED_PROXIES },
    log,
    {
      rejectedUpgrade: (status) => upgradesRejected.inc({ status: String(status) }),
    },
  );
  const handlers: ConnectorHandlers = { Deliver: unaryHandler('Connector.Deliver', log, async (req) => core.deliver(req)) };
  grpcServer.addService('parley.v1.Connector', api.Connector.service, handlers);

  const certificateNotAfter = new Gauge({
    name: 'parley_connector_ws_tls_not_after_seconds',
    help: 'End of validity (Unix seconds) of the WebSocket TLS certificate in use (absent with WS_INSECURE).',
    registers: [registry],
  });
  const listener = createWsServer(
    wsSecurity,
    config.UPGRADE_TIMEOUT_MS,
    log,
    (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' }).end('this endpoint speaks WebSocket\n');
    },
    (pair) => certificateNotAfter.set(Math.floor(pair.notAfter.getTime() / 1000)),
  );
  const wsServer = listener.server;
  wsServer.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
  await new Promise<void>((resolve, reject) => {
    wsServer.once('error', reject);
    // The accept queue must hold a reconnect storm: every client of a lost connector dials in
    // within a second, and a connection the kernel drops from a full queue waits out TCP's SYN
    // retries (1, 3, 7, 15 s ...), which is what made a storm take minutes. Node's 511 was that
    // queue; the kernel caps it at net.core.somaxconn.
    wsServer.listen({ port: config.WS_PORT, host: config.WS_HOST, backlog: config.WS_LISTEN_BACKLOG }, () => resolve());
  });
  const wsPort = (wsServer.address() as { port: number }).port;
  core.start();

  const ops = await startOpsServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    isReady: () => lifecycle.state === 'ready' && core.accepting && directory.healthy(),
  });

  // /readyz fails as soon as the lifecycle is draining. The listener stays open during the
  // drain so that late upgrades get a 503 that says "connect to another" instead of a refused
  // connection; Connector.Deliver keeps serving the sockets not yet closed.
  lifecycle.onShutdown('drain sockets (clients reconnect elsewhere)', () => core.drain());
  lifecycle.onShutdown('close the WebSocket listener', () => listener.close());
  lifecycle.onShutdown('stop gRPC', () => grpcServer.stop(5_000));
  lifecycle.onShutdown('close clients', async () => {
    router.close();
    storage.close();
  });
  lifecycle.onShutdown('close Redis', () => directory.close());
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ wsPort, wsScheme: listener.scheme, grpcPort, httpPort: ops.port, advertiseAddr }, 'connector ready');
});
