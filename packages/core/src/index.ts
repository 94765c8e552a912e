export {
  ConfigError,
  commonConfigShape,
  env,
  grpcSecurityConfigShape,
  kafkaConfigShape,
  kafkaSecurityFrom,
  loadConfig,
  readCaFile,
  redisClientAuth,
  redisConfigShape,
  redisConnectionFrom,
  type KafkaSecurity,
  type RedisConnection,
} from './config';
export { ERROR_CODES, MAX_RETRY_AFTER_MS, ParleyError, asParleyError, fromGrpcError, isParleyError, isTransientError, rateLimitedError, retryAfterFrom, toGrpcStatus, type ErrorCode } from './errors';
export {
  CallGate,
  DEFAULT_CHANNEL_OPTIONS,
  DEFAULT_MAX_CONCURRENT_CALLS,
  GrpcServer,
  attachPrincipal,
  callUnary,
  createApiClient,
  createClient,
  grpcTarget,
  unaryHandler,
  type ApiClientOptions,
  type CallContext,
  type GrpcServerOptions,
} from './grpc';
export {
  CachedKeyVerifier,
  METHOD_RULES,
  SCOPES,
  authorize,
  authorizeSender,
  bearerOf,
  describePrincipal,
  hashSecret,
  hasScope,
  isKeyId,
  knownScopes,
  newApiKey,
  parseApiKey,
  secretMatches,
  type KeyVerifier,
  type MethodRule,
  type Principal,
  type Scope,
} from './authz';
export { SERVICE_NAMES, channelCredentials, grpcSecurityFrom, peerServiceOf, serverCredentials, serviceOfCertificate, serviceUri, type GrpcSecurity, type ServiceName } from './peer';
export { BOT_ID_PATTERN, ID_PATTERN, MAX_BOTS_PER_CONVERSATION, absentConversationError, isBotId, isReservedId, isUserId, directConversationId, isDirectPair, isValidId, randomId, serverMsgIdFor, unstorableText } from './ids';
export { TOKEN_ALGORITHMS, TokenVerifier, signHs256, type TokenAlgorithm, type TokenClaims, type VerifyOptions } from './jwt';
export { Lifecycle, type LifecycleState } from './lifecycle';
export { createLogger, type Logger } from './log';
export { Counter, Gauge, Histogram, LATENCY_BUCKETS, registry } from './metrics';
export { startOpsServer, type OpsServer } from './ops';
export { SpanKind, extractTraceContext, injectTraceContext, startTelemetry, telemetryEnabled, withSpan, type Context } from './telemetry';
export { instanceIdFrom } from './instance';
export { TokenBuckets } from './rate-limit';
export { runMain } from './main';
export { startHttpApi, type HttpApi, type HttpApiOptions } from './http-api';
export { CertificateWatcher, readCertificatePair, type CertificatePair } from './tls-files';
export { ClientAddresses, parseCidr } from './client-address';
export { CallQueue, type CallQueueOptions } from './call-queue';
