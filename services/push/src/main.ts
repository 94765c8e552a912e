// Composition root of the push service.
import { createMessageBus, topicNames, withDeadLetters } from '@parley/bus';
import { Counter, GrpcServer, Histogram, Lifecycle, callUnary, createClient, createLogger, grpcSecurityFrom, instanceIdFrom, kafkaSecurityFrom, loadConfig, redisConnectionFrom, registry, runMain, startOpsServer, startTelemetry, randomId } from '@parley/core';
import { MemberListCache, subscribeMembershipBroadcast } from '@parley/membership';
import { parleyGrpc, type ConnectorClient, type DeliverResponse__Output, type ListMembersResponse__Output } from '@parley/proto';
import { RedisSessionDirectory } from '@parley/sessions';
import { pushConfigSchema } from './config';
import { Fanout, type ConnectorDeliverer } from './fanout';

runMain('parley-push', async () => {
  const config = loadConfig(pushConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('push', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-push');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const sessions = new RedisSessionDirectory({ ...redisConnectionFrom(config), keyPrefix: config.REDIS_KEY_PREFIX });
  const bus = createMessageBus({ client: config.KAFKA_CLIENT, brokers: config.KAFKA_BROKERS, clientId: `parley-push-${instanceId}`, log, security: kafkaSecurityFrom(config) });

  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const api = parleyGrpc().parley.v1;
  const security = grpcSecurityFrom(config);
  const storage = createClient(api.Storage, config.STORAGE_ADDR, security, 'storage');
  // Every member of a conversation, loaded once (in pages) and kept true by membership events.
  const members = new MemberListCache(
    async (conversationId) => {
      const all: string[] = [];
      for (let after = ''; ; ) {
        const page = await callUnary<ListMembersResponse__Output>('Storage.ListMembers', config.STORAGE_DEADLINE_MS, (md, opts, cb) =>
          storage.listMembers({ conversationId, afterUserId: after, limit: 100_000 }, md, opts, cb),
        ).catch((err: unknown) => {
          // A conversation that is gone has nobody to deliver to.
          if ((err as { code?: string }).code === 'NOT_FOUND') return { userIds: [], hasMore: false };
          throw err;
        });
        all.push(...page.userIds);
        if (!page.hasMore || page.userIds.length === 0) return all;
        after = page.userIds[page.userIds.length - 1]!;
      }
    },
    { maxMembers: config.MEMBER_CACHE_SIZE },
  );
  const Connector = api.Connector;
  const clients = new Map<string, ConnectorClient>();
  const deliverer: ConnectorDeliverer = {
    deliver: (address, request) => {
      let client = clients.get(address);
      if (!client) {
        client = createClient(Connector, address, security, 'connector');
        clients.set(address, client);
      }
      const c = client;
      return callUnary<DeliverResponse__Output>('Connector.Deliver', config.DELIVER_DEADLINE_MS, (md, opts, cb) => c.deliver(request, md, opts, cb));
    },
  };
  const counts = new Counter({ name: 'parley_push_targets_total', help: 'Fan-out results, by outcome.', labelNames: ['outcome'] as const, registers: [registry] });
  const latency = new Histogram({
    name: 'parley_push_delivery_latency_seconds',
    help: 'From the router accepting a message to a connector taking it for its sockets (router and push wall clocks).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const fanout = new Fanout(sessions, deliverer, members, log, { attempts: config.DELIVER_ATTEMPTS }, {
    delivered: (n) => counts.inc({ outcome: 'written' }, n),
    offline: (n) => counts.inc({ outcome: 'offline' }, n),
    connectorFailed: () => counts.inc({ outcome: 'connector_failed' }),
    messageLatency: (seconds) => latency.observe(seconds),
  });

  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS, security });
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);
  const ops = await startOpsServer({ host: config.HTTP_HOST, port: config.HTTP_PORT, isReady: () => lifecycle.state === 'ready' && sessions.healthy() && bus.healthy() });
  const parked = new Counter({ name: 'parley_dlq_parked_total', help: 'Records parked in the dead-letter topic, by origin topic.', labelNames: ['topic'] as const, registers: [registry] });
  const deadLetters = (group: string) => ({ bus, dlqTopic: topics.dlq, group, log, onParked: (topic: string, n: number) => parked.inc({ topic }, n) });
  const broadcast = await subscribeMembershipBroadcast({
    bus,
    topic: topics.membership,
    groupId: `${config.KAFKA_TOPIC_PREFIX}membership.push.${instanceId}.${randomId('', 6)}`,
    log,
    onChange: (change) => members.apply(change),
  });
  const deliveriesGroup = `${config.KAFKA_TOPIC_PREFIX}push`;
  const subscription = await bus.subscribe({
    groupId: deliveriesGroup,
    topic: topics.deliveries,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: withDeadLetters((batch) => fanout.handleBatch(batch), deadLetters(deliveriesGroup)),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'fan-out failed; retrying the batch'),
  });

  // QoS 0 signals: their own consumer group, so a burst of typing never delays messages.
  const signalsGroup = `${config.KAFKA_TOPIC_PREFIX}push-signals`;
  const signals = await bus.subscribe({
    groupId: signalsGroup,
    topic: topics.signals,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: withDeadLetters((batch) => fanout.handleSignals(batch), deadLetters(signalsGroup)),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'signal fan-out failed; retrying the batch'),
  });

  lifecycle.onShutdown('stop consuming (finishes and commits the batch in hand)', async () => {
    await Promise.all([subscription.stop(), signals.stop(), broadcast.stop()]);
  });
  lifecycle.onShutdown('stop gRPC health', () => grpcServer.stop(1_000));
  lifecycle.onShutdown('close Kafka', () => bus.close());
  lifecycle.onShutdown('close connector and storage clients', async () => {
    for (const client of clients.values()) client.close();
    storage.close();
  });
  lifecycle.onShutdown('close Redis', () => sessions.close());
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ httpPort: ops.port, grpcPort }, 'push ready');
});
