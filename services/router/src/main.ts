// Composition root of the router service.
import { createMessageBus, topicNames } from '@parley/bus';
import { CachedKeyVerifier, GrpcServer, Lifecycle, callUnary, createClient, createLogger, grpcSecurityFrom, instanceIdFrom, isParleyError, kafkaSecurityFrom, loadConfig, runMain, startOpsServer, startTelemetry, unaryHandler, randomId, isBotId, knownScopes, ParleyError, redisConnectionFrom, type CallContext, type Principal } from '@parley/core';
import { LocalRateLimiter, RedisBucketStore, SharedRateLimiter, type BucketLimit, type RateLimiter } from '@parley/limits';
import { MembershipCache, subscribeMembershipBroadcast } from '@parley/membership';
import { parleyGrpc, type ApiKey__Output, type ListMembersResponse__Output, type MembershipResponse__Output, type RouterHandlers } from '@parley/proto';
import { routerConfigSchema } from './config';
import { routeReceipt, routeReceiptBatch, routeSignal } from './positions';
import { routeSend, routeSendBatch, routeSendMany, type SendAuthorizer } from './router';

runMain('parley-router', async () => {
  const config = loadConfig(routerConfigSchema);
  const instanceId = instanceIdFrom(config.INSTANCE_ID);
  const log = createLogger('router', instanceId, config.LOG_LEVEL);
  const stopTelemetry = await startTelemetry('parley-router');
  const lifecycle = new Lifecycle(log, config.SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();

  const grpcApi = parleyGrpc().parley.v1;
  const security = grpcSecurityFrom(config);
  const storage = createClient(grpcApi.Storage, config.STORAGE_ADDR, security, 'storage');
  const keysApi = createClient(grpcApi.Keys, config.STORAGE_ADDR, security, 'storage');
  // Teams' API keys (Router.Send with messages:send-as) are storage's to judge; each answer is kept API_KEY_CACHE_MS.
  const keys = new CachedKeyVerifier(
    {
      verify: async (bearer) => {
        const key = await callUnary<ApiKey__Output>('Keys.VerifyKey', config.STORAGE_DEADLINE_MS, (md, opts, cb) => keysApi.verifyKey({ bearer }, md, opts, cb));
        // A bot_id that is not a bot's id grants nothing (authorizeSender compares it exactly).
        return { kind: 'key', keyId: key.keyId, name: key.name, scopes: knownScopes(key.scopes), ...(isBotId(key.botId) ? { botId: key.botId } : {}) };
      },
    },
    config.API_KEY_CACHE_MS,
  );
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const bus = createMessageBus({ client: config.KAFKA_CLIENT, brokers: config.KAFKA_BROKERS, clientId: `parley-router-${instanceId}`, log, security: kafkaSecurityFrom(config) });
  await bus.connect();

  // Membership from memory; a miss asks storage once (for a small conversation, the answer
  // lists every member). Kept true by parley.membership, read from its beginning before
  // the router serves anything.
  const membership = new MembershipCache(
    async (conversationId, userId) => {
      try {
        const answer = await callUnary<MembershipResponse__Output>('Storage.Membership', config.STORAGE_DEADLINE_MS, (md, opts, cb) =>
          storage.membership({ conversationId, userId }, md, opts, cb),
        );
        return { exists: true, member: answer.member, memberCount: Number(answer.memberCount), ...(answer.complete ? { memberIds: answer.memberIds } : {}) };
      } catch (err) {
        if (isParleyError(err) && err.code === 'NOT_FOUND') return { exists: false, member: false, memberCount: 0 };
        throw err;
      }
    },
    {
      maxConversations: config.MEMBERSHIP_CACHE_CONVERSATIONS,
      maxAgeMs: config.MEMBERSHIP_CACHE_MAX_AGE_MS,
      // Many first lookups of one large conversation at once (every member's first receipt after
      // a reconnect storm): one member-list read answers them, instead of one lookup each.
      memberList: async (conversationId, max) => {
        try {
          const page = await callUnary<ListMembersResponse__Output>('Storage.ListMembers', config.STORAGE_DEADLINE_MS, (md, opts, cb) =>
            storage.listMembers({ conversationId, afterUserId: '', limit: max }, md, opts, cb),
          );
          return { exists: true, memberIds: page.userIds, complete: !page.hasMore };
        } catch (err) {
          if (isParleyError(err) && err.code === 'NOT_FOUND') return { exists: false, memberIds: [], complete: true };
          throw err;
        }
      },
    },
  );
  const broadcast = await subscribeMembershipBroadcast({
    bus,
    topic: topics.membership,
    groupId: `${config.KAFKA_TOPIC_PREFIX}membership.router.${instanceId}.${randomId('', 6)}`,
    log,
    onChange: (change) => membership.apply(change),
  });
  const authorizer: SendAuthorizer = {
    isMember: (conversationId, userId) => membership.isMember(conversationId, userId),
    directMembers: (conversationId) => (conversationId.startsWith('d_') ? membership.members(conversationId) : undefined),
  };
  // Per-user limits: in Redis, shared by every router, without a round trip per send (each
  // router admits from its copy and reconciles every RATE_LIMIT_FLUSH_MS; see @parley/limits).
  const limitStore = config.RATE_LIMIT_STORE === 'redis' && config.REDIS_URL ? new RedisBucketStore({ ...redisConnectionFrom({ ...config, REDIS_URL: config.REDIS_URL }), keyPrefix: config.REDIS_KEY_PREFIX }) : undefined;
  if (limitStore && !(await limitStore.ready())) log.warn('rate-limit Redis not reachable yet: limiting per instance until it is');
  const shared: SharedRateLimiter[] = [];
  const limiterOf = (name: string, limit: BucketLimit): RateLimiter => {
    if (!limitStore) return new LocalRateLimiter(limit);
    const l = new SharedRateLimiter(limitStore, { name, limit, flushMs: config.RATE_LIMIT_FLUSH_MS, instanceId, log });
    shared.push(l);
    return l;
  };
  const limiter = limiterOf('send', { ratePerSec: config.SENDER_RATE_PER_SEC, burst: config.SENDER_BURST });
  const signalLimiter = limiterOf('signal', { ratePerSec: config.SIGNAL_RATE_PER_SEC, burst: config.SIGNAL_BURST });
  // Before serving, one store answer per limiter: it says how many routers share a bucket. Until a
  // limiter has one, a user's first burst gets only its first-contact share (a quarter of the
  // burst), which refused the 51st of 100 messages a user sent at once to a fresh router. The key
  // cannot be a user's (ids never hold "~"), and its one token is all it ever takes.
  for (const l of shared) {
    l.take(`~start:${instanceId}`);
    await l.flush();
  }
  const deps = {
    bus,
    messagesTopic: topics.messages,
    authorizer,
    limiter,
    maxBodyBytes: config.MAX_BODY_BYTES,
    log,
  };
  const positionDeps = {
    bus,
    receiptsTopic: topics.receipts,
    signalsTopic: topics.signals,
    membership: authorizer,
    signalLimiter,
  };
  // GrpcServer attaches every call's principal; a call without one is refused, never trusted.
  const callerOf = (ctx: CallContext): Principal => {
    if (!ctx.principal) throw new ParleyError('UNAUTHENTICATED', 'no caller identity attached to this call');
    return ctx.principal;
  };
  const handlers: RouterHandlers = {
    Send: unaryHandler('Router.Send', log, (req, ctx) => routeSend(deps, req, callerOf(ctx))),
    SendBatch: unaryHandler('Router.SendBatch', log, (req, ctx) => routeSendBatch(deps, req, callerOf(ctx))),
    SendMany: unaryHandler('Router.SendMany', log, (req, ctx) => routeSendMany(deps, req, callerOf(ctx))),
    Receipt: unaryHandler('Router.Receipt', log, (req) => routeReceipt(positionDeps, req)),
    ReceiptBatch: unaryHandler('Router.ReceiptBatch', log, (req) => routeReceiptBatch(positionDeps, req)),
    Signal: unaryHandler('Router.Signal', log, (req) => routeSignal(positionDeps, req)),
  };

  const grpcServer = new GrpcServer(log, { reflection: config.GRPC_REFLECTION, maxConcurrentCalls: config.GRPC_MAX_CONCURRENT_CALLS, security, keys });
  grpcServer.addService('parley.v1.Router', grpcApi.Router.service, handlers);
  const grpcPort = await grpcServer.listen(config.GRPC_HOST, config.GRPC_PORT);
  const apiHttpPort = config.API_HTTP_ENABLED ? await grpcServer.listenHttp(config.GRPC_HOST, config.API_HTTP_PORT) : undefined;
  const ops = await startOpsServer({ host: config.HTTP_HOST, port: config.HTTP_PORT, isReady: () => lifecycle.state === 'ready' && bus.healthy() });

  lifecycle.onShutdown('stop gRPC (finishes sends in flight)', () => grpcServer.stop(10_000));
  lifecycle.onShutdown('stop reading membership changes', () => broadcast.stop());
  lifecycle.onShutdown('flush and close rate limits', async () => {
    await Promise.all([limiter.close(), signalLimiter.close()]);
    await limitStore?.close();
  });
  lifecycle.onShutdown('close Kafka', () => bus.close());
  lifecycle.onShutdown('close storage clients', async () => {
    storage.close();
    keysApi.close();
  });
  lifecycle.onShutdown('close ops HTTP', () => ops.close());
  lifecycle.onShutdown('flush telemetry', stopTelemetry);

  grpcServer.setServing(true);
  lifecycle.ready();
  log.info({ grpcPort, apiHttpPort, httpPort: ops.port }, 'router ready');
});
