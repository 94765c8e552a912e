// Owns gRPC plumbing shared by every service: a server with grpc.health.v1 and
// optional reflection, mutual TLS, every call authenticated and authorized before any work
// (authz.ts), handler wrapping (trace context, metrics, error -> status), and client calls
// that always carry a deadline and map statuses back to ParleyError.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { jsonMethodCodec, packageDefinition, parleyGrpc, type HealthHandlers, type JsonMethodCodec } from '@parley/proto';
import { METHOD_RULES, authorize, bearerOf, describePrincipal, type KeyVerifier, type Principal } from './authz';
import { ParleyError, asParleyError, fromGrpcError, toGrpcStatus } from './errors';
import { startHttpApi, type HttpApi } from './http-api';
import type { Logger } from './log';
import { grpcClientHandled, grpcServerHandled, grpcServerLatency, grpcServerShed } from './metrics';
import { channelCredentials, checkServiceIdentity, peerServiceOf, serverCredentials, type GrpcSecurity, type ServiceName } from './peer';
import { SpanKind, extractTraceContext, injectTraceContext, withSpan } from './telemetry';

type ServingStatus = 'SERVING' | 'NOT_SERVING';

/** Default bound on the unary calls one server works on at once (GRPC_MAX_CONCURRENT_CALLS). */
export const DEFAULT_MAX_CONCURRENT_CALLS = 512;

/**
 * Admission control for unary calls: at most `limit` at once; a call past it, or one whose
 * deadline passed before it started, is answered UNAVAILABLE (retryable) at once instead of
 * joining a queue. Without it, an overloaded server (a database that came back slow, a burst
 * of resends) keeps working on calls whose callers have already given up and retried, and
 * never catches up: it stays busy, yet nothing it finishes is of use to anyone.
 */
export class CallGate {
  inflight = 0;
  constructor(readonly limit: number) {}

  /** Runs `handler` if admitted; returns why not otherwise. */
  admit<Req, Res>(call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>, handler: grpc.handleUnaryCall<Req, Res>): 'overloaded' | 'expired' | undefined {
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
    if (call.cancelled || (Number.isFinite(deadlineMs) && deadlineMs <= Date.now())) return 'expired';
    if (this.inflight >= this.limit) return 'overloaded';
    this.inflight++;
    let done = false;
    handler(call, (...args: Parameters<grpc.sendUnaryData<Res>>) => {
      if (!done) {
        done = true;
        this.inflight--;
      }
      callback(...args);
    });
    return undefined;
  }
}

/** Who made each call being handled (read by unaryHandler into CallContext.principal). */
const principals = new WeakMap<object, Principal>();

/** Records who made a call, for its handler's CallContext (GrpcServer does it; tests call handlers directly). */
export function attachPrincipal(call: object, principal: Principal): void {
  principals.set(call, principal);
}

/** A method of the HTTP/JSON form: the gRPC handler, its JSON codec and its binary (de)serializers. */
export interface HttpMethod {
  method: string;
  handler: grpc.handleUnaryCall<unknown, unknown>;
  codec: JsonMethodCodec;
  deserialize: (bytes: Buffer) => unknown;
  serialize: (value: unknown) => Buffer;
}

/** Answers a call with a ParleyError's status and Parley's error trailers. */
function refuse(callback: grpc.sendUnaryData<unknown>, error: ParleyError): void {
  callback({ code: toGrpcStatus(error.code), details: error.message, metadata: errorTrailers(error) });
}

/** Parley's error trailers (docs/API.md): the code, whether to retry and, for a rate limit, when. */
export function errorTrailers(error: ParleyError): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('parley-error-code', error.code);
  metadata.set('parley-retryable', String(error.retryable));
  if (error.retryAfterMs !== undefined) metadata.set('parley-retry-after-ms', String(error.retryAfterMs));
  return metadata;
}

/** API key lookups one server has under way at most; past it a call with a key is shed (UNAVAILABLE). */
const MAX_KEY_LOOKUPS = 256;

/** Request fields an audit line names (ids only: never a body or a credential). */
const AUDITED_FIELDS = ['conversationId', 'userId', 'senderId', 'keyId'] as const;

export interface GrpcServerOptions {
  reflection: boolean;
  /** mTLS (the default) or plaintext for development (peer.ts). */
  security: GrpcSecurity;
  /** API keys this server takes (storage's store, or a cached Keys.VerifyKey); none: keys are refused. */
  keys?: KeyVerifier;
  maxMessageBytes?: number;
  maxConcurrentCalls?: number;
}

export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly serviceNames: string[] = [''];
  private status: ServingStatus = 'NOT_SERVING';
  private readonly watchers = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  boundPort = 0;
  private readonly gate: CallGate;
  private readonly security: GrpcSecurity;
  private readonly keys: KeyVerifier | undefined;
  /** API key lookups under way (bounded by MAX_KEY_LOOKUPS). */
  private keyLookups = 0;
  private readonly httpMethods = new Map<string, HttpMethod>();
  private readonly maxMessageBytes: number;
  private http: HttpApi | undefined;

  constructor(
    private readonly log: Logger,
    options: GrpcServerOptions,
  ) {
    this.security = options.security;
    this.keys = options.keys;
    if (this.security.mode === 'insecure') log.warn('GRPC_INSECURE: plaintext gRPC, and every caller without an API key is trusted as a Parley service; for development only');
    this.gate = new CallGate(options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS);
    this.maxMessageBytes = options.maxMessageBytes ?? 8 * 1024 * 1024;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': this.maxMessageBytes,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // Clients ping every 30 s (DEFAULT_CHANNEL_OPTIONS); the server's default minimum of
      // 5 min between data-less pings would answer them with GOAWAY and reset live calls.
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
      'grpc.http2.max_ping_strikes': 0,
    });
    const health = parleyGrpc().grpc.health.v1.Health.service;
    const handlers: HealthHandlers = {
      Check: (call, callback) => {
        const service = call.request.service;
        if (!this.serviceNames.includes(service)) {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` });
          return;
        }
        callback(null, { status: this.status });
      },
      Watch: (call) => {
        this.watchers.add(call as unknown as grpc.ServerWritableStream<unknown, unknown>);
        call.write({ status: this.serviceNames.includes(call.request.service) ? this.status : 'SERVICE_UNKNOWN' });
        call.on('cancelled', () => this.watchers.delete(call as unknown as grpc.ServerWritableStream<unknown, unknown>));
      },
    };
    this.server.addService(health, handlers);
    if (options.reflection) new ReflectionService(packageDefinition()).addToServer(this.server);
  }

  /**
   * Adds a service of unary methods, each behind authentication, its access rule (authz.ts)
   * and this server's admission control (CallGate), in that order: a caller who may not call a
   * method costs no work and takes no slot.
   */
  addService(fullName: string, definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    const gated: grpc.UntypedServiceImplementation = {};
    for (const [name, handler] of Object.entries(implementation)) {
      const method = `${fullName.split('.').pop() ?? fullName}.${name}`;
      if (!METHOD_RULES[method]) throw new Error(`${method} has no access rule in authz.ts (METHOD_RULES)`);
      const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
      // A Parley service is known from its certificate; anyone else presents an API key.
      gated[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        this.dispatch(method, unary, call, callback, peerServiceOf(call));
      const codec = jsonMethodCodec(fullName, name);
      const serialized = definition[name];
      if (codec && serialized) {
        this.httpMethods.set(`/${fullName}/${name}`, { method, handler: unary, codec, deserialize: serialized.requestDeserialize, serialize: serialized.responseSerialize });
      }
    }
    this.server.addService(definition, gated);
    this.serviceNames.push(fullName);
  }

  /**
   * One call of either form (gRPC, or HTTP through http-api.ts), behind authentication, its
   * access rule (authz.ts) and admission control (CallGate), in that order: a caller who may
   * not call a method costs no work and takes no slot. `service` is the caller's proven
   * certificate identity, if any (never over HTTP, where every caller presents a key).
   */
  dispatch(method: string, unary: grpc.handleUnaryCall<unknown, unknown>, call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>, service: ServiceName | undefined): void {
    const admitted = (principal: Principal) => {
      const denied = authorize(method, principal);
      if (denied) {
        grpcServerHandled.inc({ method, code: denied.code });
        this.log.warn({ method, ...describePrincipal(principal) }, 'gRPC call refused: not allowed');
        return refuse(callback, denied);
      }
      if (principal.kind === 'key') this.audit(method, principal, call.request);
      attachPrincipal(call, principal);
      const refused = this.gate.admit(call, callback, unary);
      if (!refused) return;
      grpcServerShed.inc({ method, reason: refused });
      refuse(
        callback,
        refused === 'expired'
          ? new ParleyError('DEADLINE_EXCEEDED', 'the deadline passed before the call started', { retryable: true })
          : new ParleyError('UNAVAILABLE', 'server overloaded; retry with backoff', { retryable: true }),
      );
    };
    if (service) return admitted({ kind: 'service', service });
    const header = call.metadata.get('authorization')[0];
    const bearer = bearerOf(typeof header === 'string' ? header : undefined);
    if (bearer === undefined) {
      if (this.security.mode === 'insecure' && header === undefined) return admitted({ kind: 'development' });
      grpcServerHandled.inc({ method, code: 'UNAUTHENTICATED' });
      return refuse(callback, new ParleyError('UNAUTHENTICATED', 'present a Parley service certificate or an API key (metadata authorization: Bearer pk_...)'));
    }
    if (!this.keys) {
      grpcServerHandled.inc({ method, code: 'UNAUTHENTICATED' });
      return refuse(callback, new ParleyError('UNAUTHENTICATED', `${method.split('.')[0]} takes no API keys: its callers are Parley's own services`));
    }
    // Key lookups not yet answered are bounded too: a flood of made-up keys (each a cache
    // miss, each a store read) is shed like any other overload.
    if (this.keyLookups >= MAX_KEY_LOOKUPS) {
      grpcServerShed.inc({ method, reason: 'overloaded' });
      return refuse(callback, new ParleyError('UNAVAILABLE', 'server overloaded; retry with backoff', { retryable: true }));
    }
    this.keyLookups++;
    this.keys
      .verify(bearer)
      .finally(() => this.keyLookups--)
      .then(admitted, (err: unknown) => {
        const error = asParleyError(err);
        grpcServerHandled.inc({ method, code: error.code });
        if (error.code === 'INTERNAL') this.log.error({ err: error.cause ?? error, method }, 'verifying an API key failed');
        refuse(callback, error);
      });
  }

  /** The methods the HTTP/JSON form serves, by path (`/parley.v1.Storage/CreateGroup`). */
  httpMethod(path: string): HttpMethod | undefined {
    return this.httpMethods.get(path);
  }

  /**
   * Serves the same methods as HTTP/JSON (the Connect protocol's unary form, http-api.ts) on
   * their own port: TLS with this server's certificate unless GRPC_INSECURE. Stopped by stop().
   */
  async listenHttp(host: string, port: number, options: { maxBodyBytes?: number } = {}): Promise<number> {
    this.http = await startHttpApi(this, this.log, { host, port, security: this.security, maxBodyBytes: options.maxBodyBytes ?? this.maxMessageBytes });
    return this.http.port;
  }

  /** One info line per call made with an API key: who, what, on which ids (no bodies, no secrets). */
  private audit(method: string, principal: Principal, request: unknown): void {
    const fields: Record<string, unknown> = {};
    if (request && typeof request === 'object') {
      for (const f of AUDITED_FIELDS) {
        const v = (request as Record<string, unknown>)[f];
        if (typeof v === 'string' && v !== '') fields[f] = v;
      }
    }
    this.log.info({ audit: true, method, ...describePrincipal(principal), ...fields }, 'api call');
  }

  setServing(serving: boolean): void {
    this.status = serving ? 'SERVING' : 'NOT_SERVING';
    for (const watcher of this.watchers) watcher.write({ status: this.status });
  }

  async listen(host: string, port: number): Promise<number> {
    this.boundPort = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, serverCredentials(this.security), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });
    return this.boundPort;
  }

  /** Stops taking calls, lets in-flight ones finish for up to graceMs, then cuts the rest. */
  async stop(graceMs: number): Promise<void> {
    this.setServing(false);
    const http = this.http?.close(graceMs);
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.log.warn('gRPC server did not drain in time; forcing');
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    await http;
  }
}

export interface CallContext {
  metadata: grpc.Metadata;
  /** Who called (a service, a key, or a development caller); always set behind GrpcServer. */
  principal: Principal | undefined;
  /** Milliseconds left before the caller's deadline, if it set one. */
  deadline: number | undefined;
}

/**
 * Wraps an async handler as a gRPC unary handler: continues the caller's trace,
 * counts the call, and turns any thrown error into its gRPC status (INTERNAL ones are
 * logged with their cause and answered without detail).
 */
export function unaryHandler<Req, Res>(
  method: string,
  log: Logger,
  fn: (request: Req, ctx: CallContext) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const parent = extractTraceContext(call.metadata.getMap());
    const deadlineValue = call.getDeadline();
    const deadline = deadlineValue instanceof Date ? deadlineValue.getTime() - Date.now() : Number.isFinite(deadlineValue) ? Number(deadlineValue) - Date.now() : undefined;
    withSpan(method, { kind: SpanKind.SERVER, parent, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, () =>
      fn(call.request, { metadata: call.metadata, deadline, principal: principals.get(call) }),
    ).then(
      (response) => {
        grpcServerHandled.inc({ method, code: 'OK' });
        grpcServerLatency.observe({ method }, Number(process.hrtime.bigint() - started) / 1e9);
        callback(null, response);
      },
      (err: unknown) => {
        const error = asParleyError(err);
        if (error.code === 'INTERNAL') log.error({ err: error.cause ?? error, method }, 'gRPC handler failed');
        grpcServerHandled.inc({ method, code: error.code });
        grpcServerLatency.observe({ method }, Number(process.hrtime.bigint() - started) / 1e9);
        callback({ code: toGrpcStatus(error.code), details: error.message, metadata: errorTrailers(error) });
      },
    );
  };
}

export const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 5_000,
};

type ClientConstructor<C> = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => C;

/**
 * A channel to one service, balanced round-robin over every address it resolves to:
 * `host:port` (one address, or a headless Kubernetes Service via `dns:///name:port`), or
 * a comma-separated list `10.0.0.1:7001,10.0.0.2:7001` (static instances). A dead instance
 * leaves the rotation on its first failed connection, so retries reach the others.
 */
export function grpcTarget(address: string): string {
  const trimmed = address.trim();
  if (!trimmed.includes(',') || /^(dns|ipv4|ipv6|unix|unix-abstract|vsock):/i.test(trimmed)) return trimmed;
  const parts = trimmed.split(',').map((p) => p.trim()).filter(Boolean);
  return `${parts.some((p) => p.startsWith('[')) ? 'ipv6' : 'ipv4'}:${parts.join(',')}`;
}

/** A channel from one Parley service to another: mTLS with our certificate, the server checked to be `service`. */
export function createClient<C extends grpc.Client>(Ctor: ClientConstructor<C>, address: string, security: GrpcSecurity, service: ServiceName): C {
  return new Ctor(grpcTarget(address), channelCredentials(security, service), {
    ...DEFAULT_CHANNEL_OPTIONS,
    // TLS server name (SNI): the service, not the IP dialled; the certificate is checked by identity.
    ...(security.mode === 'mtls' ? { 'grpc.ssl_target_name_override': `parley-${service}` } : {}),
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  });
}

export interface ApiClientOptions {
  /** An API key (pk_...), sent as `authorization: Bearer` on every call. */
  key?: string;
  /** TLS to a Parley service: the CA that issued its certificate (PEM), and which service it must be. */
  tls?: { caPem: Buffer; service: ServiceName };
  /** Plaintext, for a platform started with GRPC_INSECURE (development). */
  insecure?: boolean;
}

/**
 * A channel for a caller outside Parley (a team's backend, the CLI, tests, the bench): TLS that
 * trusts Parley's CA and checks the server is the service meant, plus the API key on every call.
 */
export function createApiClient<C extends grpc.Client>(Ctor: ClientConstructor<C>, address: string, options: ApiClientOptions): C {
  const credentials = options.tls
    ? grpc.credentials.createSsl(options.tls.caPem, null, null, { checkServerIdentity: checkServiceIdentity(options.tls.service) })
    : options.insecure
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl();
  const key = options.key;
  const withKey: grpc.Interceptor = (callOptions, nextCall) =>
    new grpc.InterceptingCall(nextCall(callOptions), {
      start: (metadata, listener, next) => {
        if (key) metadata.set('authorization', `Bearer ${key}`);
        next(metadata, listener);
      },
    });
  return new Ctor(grpcTarget(address), credentials, {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...(options.tls ? { 'grpc.ssl_target_name_override': `parley-${options.tls.service}` } : {}),
    'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
    interceptors: [withKey],
  } as grpc.ChannelOptions);
}

/**
 * Makes one unary call with a deadline and the current trace context.
 * Usage: callUnary<Res>('Router.Send', 2000, (md, opts, cb) => client.send(req, md, opts, cb)).
 */
export function callUnary<Res>(
  method: string,
  deadlineMs: number,
  invoke: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => unknown,
): Promise<Res> {
  return withSpan(method, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } }, () => {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(injectTraceContext({}))) metadata.set(key, value);
    return new Promise<Res>((resolve, reject) => {
      invoke(metadata, { deadline: Date.now() + deadlineMs }, (err, response) => {
        if (err) {
          const error = fromGrpcError(err);
          grpcClientHandled.inc({ method, code: error.code });
          reject(error);
          return;
        }
        grpcClientHandled.inc({ method, code: 'OK' });
        if (response === undefined) reject(new ParleyError('INTERNAL', `${method} returned no response`));
        else resolve(response);
      });
    });
  });
}
