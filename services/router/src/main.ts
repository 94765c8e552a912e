// Composition root of the router service.
import { KafkaBus, topicNames } from '@parley/bus';
import { GrpcServer, Lifecycle, callUnary, createClient, createLogger, instanceIdFrom, kafkaSecurityFrom, loadConfig, runMain, startOpsServer, startTelemetry, unaryHandler } from '@parley/core';
import { parleyGrpc, type CheckSendResponse__Output, type ListMembersResponse__Output, type RouterHandlers } from '@parley/proto';
import { routerConfigSchema } from './config';
import { CachedMembership, routeReceipt, routeSignal } from './positions';
import { TokenBuckets } from './rate-limit';
import { routeSend, type SendAuthorizer } from './router';

runMain('parley-router', async () => {
  const config = loadConfig(routerConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('router', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-router');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const grpcApi = parleyGrpc().parley.v1;
  const storage = createClient(grpcApi.Storage, config.STORAGE_ADDR);
  const authorizer: SendAuthorizer = {
    check: (conversationId, userId, serverMsgId) =>
      callUnary<CheckSendResponse__Output>('Storage.CheckSend', config.STORAGE_DEADLINE_MS, (md, opts, cb) =>
        storage.checkSend({ conversationId, userId, serverMsgId }, md, opts, cb),
      ),
  };
  const bus = new KafkaBus({ brokers: config.KAFKA_BROKERS, clientId: `parley-router-${instanceId}`, log, security: kafkaSecurityFrom(config) });
  await bus.connect();
  const deps = {
    bus,
    messagesTopic: topicNames(config.KAFKA_TOPIC_PREFIX).messages,
    authorizer,
    limiter: new TokenBuckets(config.SENDER_RATE_PER_SEC, config.SENDER_BURST),
    maxBodyBytes: config.MAX_BODY_BYTES,
  };
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const membership = new CachedMembership(
    {
      isMember: async (conversationId, userId) => (await authorizer.check(conversationId, userId, '')).member,
      members: async (conversationId) =>
        (
          await callUnary<ListMembersResponse__Output>('Storage.ListMembers', config.STORAGE_DEADLINE_MS, (md, opts, cb) =>
            storage.listMembers({ conversationId }, md, opts, cb),
          )
        ).userIds,
    },
    config.MEMBERSHIP_CACHE_MS,
  );
  const positionDeps = {
    bus,
    receiptsTopic: topics.receipts,
    signalsTopic: topics.signals,
    membership,
    signalLimiter: new TokenBuckets(config.SIGNAL_RATE_PER_SEC, config.SIGNAL_BURST),
  };
  const handlers: RouterHandlers = {
    Send: unaryHandler('Router.Send', log, (req) => routeSend(deps, req)),
    Receipt: unaryHandler('Router.Receipt', log, (req) => routeReceipt(positionDeps, req)),
    Signal: unaryHandler('Router.Signal', log, (req) => routeSignal(positionDeps, req)),
  };

  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS });
  grpcServer.addService('parley.v1.Router', grpcApi.Router.service, handlers);
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);
  const ops = await startOpsServer({ host: config.HTTP_HOST, port: config.HTTP_PORT, isReady: () => lifecycle.state === 'ready' && bus.healthy() });

  lifecycle.onShutdown('stop gRPC (finishes sends in flight)', () => grpcServer.stop(10_000));
  lifecycle.onShutdown('close Kafka', () => bus.close());
  lifecycle.onShutdown('close storage client', async () => storage.close());
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ grpcPort, httpPort: ops.port }, 'router ready');
});
