// Composition root of the storage service.
import { createMessageBus, topicNames, withDeadLetters } from '@parley/bus';
import { CachedKeyVerifier, Counter, GrpcServer, Lifecycle, createLogger, grpcSecurityFrom, instanceIdFrom, kafkaSecurityFrom, loadConfig, redisConnectionFrom, registry, runMain, startOpsServer, startTelemetry, randomId } from '@parley/core';
import { MembershipCache, subscribeMembershipBroadcast } from '@parley/membership';
import { parleyGrpc } from '@parley/proto';
import { ConversationDocs, MembershipEvents, membershipOf, storageHandlers } from './api';
import { StoreKeyVerifier, keysHandlers } from './keys-api';
import { storageConfigSchema } from './config';
import { MessageReader } from './reads';
import { ReceiptRecorder } from './receipts';
import { Sequencer } from './sequencer';
import { ConversationHeads, DirectMembers, MemberPositions } from './state';
import { CombinedMessageLog, RedisRegisters, connectMongoStores, mongoConnectionFrom } from './store';

runMain('parley-storage', async () => {
  const config = loadConfig(storageConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('storage', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-storage');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const stores = await connectMongoStores(config.MONGO_URL, config.MONGO_DB, mongoConnectionFrom(config));
  const registers = new RedisRegisters({ ...redisConnectionFrom(config), keyPrefix: config.REDIS_KEY_PREFIX });
  const bus = createMessageBus({ client: config.KAFKA_CLIENT, brokers: config.KAFKA_BROKERS, clientId: `parley-storage-${instanceId}`, log, security: kafkaSecurityFrom(config) });
  await bus.connect();

  const heads = new ConversationHeads(registers, stores.log, log);
  const positions = new MemberPositions(registers, stores.positions, log);
  const directs = new DirectMembers(registers, stores.conversations, log);
  const lookup = membershipOf(directs, stores.conversations);
  // The sequencer's membership answers follow the stream (membership records in
  // parley.messages); the read API's follow the broadcast.
  const senders = new MembershipCache(lookup);
  const readers = new MembershipCache(lookup);
  const conversationDocs = new ConversationDocs(stores.conversations);
  const onChange = (change: Parameters<MembershipCache['apply']>[0]) => {
    readers.apply(change);
    conversationDocs.invalidate(change.conversationId);
  };
  const events = new MembershipEvents(bus, topics, [onChange]);

  const outcomes = new Counter({ name: 'parley_storage_messages_total', help: 'Messages consumed, by outcome.', labelNames: ['outcome'] as const, registers: [registry] });
  const parked = new Counter({ name: 'parley_dlq_parked_total', help: 'Records parked in the dead-letter topic, by origin topic.', labelNames: ['topic'] as const, registers: [registry] });
  // Every partition's appends in as few writes as possible (group commit; see combine.ts).
  const sequencer = new Sequencer(new CombinedMessageLog(stores.log), heads, senders, bus, topics.deliveries, log, {
    stored: (n) => outcomes.inc({ outcome: 'stored' }, n),
    duplicates: (n) => outcomes.inc({ outcome: 'duplicate' }, n),
    rejected: (n) => outcomes.inc({ outcome: 'rejected' }, n),
    conflicts: (n) => outcomes.inc({ outcome: 'conflict_round' }, n),
  });

  // API keys: the bootstrap secret and the key store, each answer kept API_KEY_CACHE_MS.
  const keys = new CachedKeyVerifier(new StoreKeyVerifier(stores.keys, config.BOOTSTRAP_ADMIN_KEY), config.API_KEY_CACHE_MS);
  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS, security: grpcSecurityFrom(config), keys });
  grpcServer.addService('parley.v1.Keys', parleyGrpc().parley.v1.Keys.service, keysHandlers({ keys: stores.keys, verifier: keys, log }));
  grpcServer.addService(
    'parley.v1.Storage',
    parleyGrpc().parley.v1.Storage.service,
    storageHandlers({
      conversations: stores.conversations,
      directs,
      heads,
      positions,
      reader: new MessageReader(stores.log, config.READ_CACHE_BYTES),
      readers,
      conversationDocs,
      events,
      log,
      limits: { maxGroupMembers: config.MAX_GROUP_MEMBERS, maxPageSize: config.MAX_PAGE_SIZE },
    }),
  );
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);
  const apiHttpPort = config.API_HTTP_ENABLED ? await grpcServer.listenHttp(config.GRPC_HOST, config.API_HTTP_PORT) : undefined;

  const ops = await startOpsServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    isReady: () => lifecycle.state === 'ready' && stores.healthy() && bus.healthy(),
  });

  const deadLetters = (group: string) => ({ bus, dlqTopic: topics.dlq, group, log, onParked: (topic: string, n: number) => parked.inc({ topic }, n) });
  const broadcast = await subscribeMembershipBroadcast({ bus, topic: topics.membership, groupId: `${config.KAFKA_TOPIC_PREFIX}membership.storage.${instanceId}.${randomId('', 6)}`, log, onChange });
  const messagesGroup = `${config.KAFKA_TOPIC_PREFIX}storage`;
  const subscription = await bus.subscribe({
    groupId: messagesGroup,
    topic: topics.messages,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: withDeadLetters((batch) => sequencer.handleBatch(batch), deadLetters(messagesGroup)),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'storing a batch failed; retrying it'),
  });

  const receiptsMoved = new Counter({ name: 'parley_storage_receipts_total', help: 'Member positions that moved forward and were fanned out.', registers: [registry] });
  const recorder = new ReceiptRecorder(heads, positions, bus, topics.deliveries, log, (n) => receiptsMoved.inc(n));
  const receiptsGroup = `${config.KAFKA_TOPIC_PREFIX}storage-receipts`;
  const receipts = await bus.subscribe({
    groupId: receiptsGroup,
    topic: topics.receipts,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: withDeadLetters((batch) => recorder.handleBatch(batch), deadLetters(receiptsGroup)),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'storing receipts failed; retrying the batch'),
  });

  lifecycle.onShutdown('stop consuming (finishes and commits the batches in hand)', async () => {
    await Promise.all([subscription.stop(), receipts.stop(), broadcast.stop()]);
  });
  lifecycle.onShutdown('stop gRPC', () => grpcServer.stop(5_000));
  lifecycle.onShutdown('close Kafka', () => bus.close());
  lifecycle.onShutdown('close MongoDB and Redis', async () => {
    await Promise.all([stores.close(), registers.close()]);
  });
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ grpcPort, apiHttpPort, httpPort: ops.port, topic: topics.messages }, 'storage ready');
});
