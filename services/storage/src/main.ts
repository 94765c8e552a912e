// Composition root of the storage service.
import { KafkaBus, topicNames } from '@parley/bus';
import { Counter, GrpcServer, Lifecycle, createLogger, instanceIdFrom, kafkaSecurityFrom, loadConfig, registry, runMain, startOpsServer, startTelemetry } from '@parley/core';
import { parleyGrpc } from '@parley/proto';
import { storageHandlers } from './api';
import { storageConfigSchema } from './config';
import { ReceiptRecorder } from './receipts';
import { Sequencer } from './sequencer';
import { MongoMessageStore } from './store';

runMain('parley-storage', async () => {
  const config = loadConfig(storageConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('storage', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-storage');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const store = await MongoMessageStore.connect(config.MONGO_URL, config.MONGO_DB);
  const bus = new KafkaBus({ brokers: config.KAFKA_BROKERS, clientId: `parley-storage-${instanceId}`, log, security: kafkaSecurityFrom(config) });
  await bus.connect();

  const outcomes = new Counter({ name: 'parley_storage_messages_total', help: 'Messages consumed, by outcome.', labelNames: ['outcome'] as const, registers: [registry] });
  const sequencer = new Sequencer(store, bus, topics.deliveries, log, {
    stored: (n) => outcomes.inc({ outcome: 'stored' }, n),
    duplicates: (n) => outcomes.inc({ outcome: 'duplicate' }, n),
    rejected: (n) => outcomes.inc({ outcome: 'rejected' }, n),
  });

  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS });
  const storageService = parleyGrpc().parley.v1.Storage.service;
  grpcServer.addService('parley.v1.Storage', storageService, storageHandlers(store, log, { maxGroupMembers: config.MAX_GROUP_MEMBERS, maxPageSize: config.MAX_PAGE_SIZE }));
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);

  const ops = await startOpsServer({
    host: config.HTTP_HOST,
    port: config.HTTP_PORT,
    isReady: () => lifecycle.state === 'ready' && store.healthy() && bus.healthy(),
  });

  const subscription = await bus.subscribe({
    groupId: `${config.KAFKA_TOPIC_PREFIX}storage`,
    topic: topics.messages,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: (batch) => sequencer.handleBatch(batch),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'storing a batch failed; retrying it'),
  });

  const receiptsMoved = new Counter({ name: 'parley_storage_receipts_total', help: 'Device positions that moved forward and were fanned out.', registers: [registry] });
  const recorder = new ReceiptRecorder(store, bus, topics.deliveries, log, (n) => receiptsMoved.inc(n));
  const receipts = await bus.subscribe({
    groupId: `${config.KAFKA_TOPIC_PREFIX}storage-receipts`,
    topic: topics.receipts,
    concurrency: config.CONSUMER_CONCURRENCY,
    handler: (batch) => recorder.handleBatch(batch),
    onHandlerError: (err, batch) => log.warn({ err, partition: batch.partition }, 'storing receipts failed; retrying the batch'),
  });

  lifecycle.onShutdown('stop consuming (finishes and commits the batches in hand)', async () => {
    await Promise.all([subscription.stop(), receipts.stop()]);
  });
  lifecycle.onShutdown('stop gRPC', () => grpcServer.stop(5_000));
  lifecycle.onShutdown('close Kafka', () => bus.close());
  lifecycle.onShutdown('close MongoDB', () => store.close());
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ grpcPort, httpPort: ops.port, topic: topics.messages }, 'storage ready');
});
