import { z } from 'zod';
import { TOKEN_ALGORITHMS, commonConfigShape, env, parseCidr, redisConfigShape } from '@parley/core';

/** Time a graceful stop needs after the drain window: close handshakes, upstream calls, gRPC. */
export const DRAIN_MARGIN_MS = 5_000;

export const connectorConfigSchema = z.object({
  ...commonConfigShape,
  WS_HOST: env.host('0.0.0.0'),
  WS_PORT: env.port(8080),
  /** Pending connections the kernel queues for the WebSocket port (capped by net.core.somaxconn). */
  WS_LISTEN_BACKLOG: env.int(65_535, 1, 65_535),
  /** The client listener's certificate chain and key (PEM): wss:// on WS_PORT. Read again every WS_TLS_REFRESH_MS. */
  WS_TLS_CERT_FILE: z.string().min(1).optional(),
  WS_TLS_KEY_FILE: z.string().min(1).optional(),
  /** How often the client certificate files are read again (a renewed certificate serves new connections without a restart). */
  WS_TLS_REFRESH_MS: env.int(60_000, 100, 86_400_000),
  /** Plaintext ws:// on WS_PORT: only where TLS ends in front of the connector (an ingress) or for local development. */
  WS_INSECURE: env.bool(false),
  HTTP_PORT: env.port(9100),
  GRPC_PORT: env.port(7000),
  /** host:port at which push reaches this instance's gRPC server; defaults to <hostname>:<GRPC_PORT>. */
  ADVERTISE_ADDR: z.string().min(3).optional(),
  ROUTER_ADDR: z.string().min(3),
  STORAGE_ADDR: z.string().min(3),
  ...redisConfigShape,
  /** HS256 secrets, comma-separated: the first signs nothing here, any verifies (rotation). At least 32 characters each. */
  JWT_SECRETS: env.list().pipe(z.array(z.string().min(32, 'each secret needs at least 32 characters')).min(1)).optional(),
  /** The token issuer's JWKS (RS256, ES256, EdDSA keys), fetched and cached; an unknown kid fetches it again. */
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Token algorithms accepted, comma-separated (HS256, RS256, ES256, EdDSA); the token's header never widens it. */
  JWT_ALGORITHMS: env.list().pipe(z.array(z.enum(TOKEN_ALGORITHMS)).min(1)).default([...TOKEN_ALGORITHMS]),
  JWT_ISSUER: z.string().optional(),
  JWT_AUDIENCE: z.string().optional(),
  /** When set, a token's header typ must be this (for example JWT, or at+jwt for OAuth access tokens). */
  JWT_TYPE: z.string().optional(),
  /** Browser origins allowed to connect, comma-separated; "*" allows any. Clients that send no Origin (native apps, servers) are always allowed. */
  ALLOWED_ORIGINS: z.string().default('').transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0)),
  MAX_FRAME_BYTES: env.int(65_536, 1_024, 16 * 1024 * 1024),
  MAX_CONNECTIONS: env.int(200_000, 1, 10_000_000),
  /** Devices one user may have connected at once, across every connector (the session directory); the next is refused 429. */
  MAX_DEVICES_PER_USER: env.int(20, 1, 10_000),
  /** Upgrades one remote address may start per second on this connector, and its burst; past them 429 with Retry-After. */
  UPGRADES_PER_IP_PER_SEC: env.int(1_000, 1, 1_000_000),
  UPGRADE_BURST_PER_IP: env.int(5_000, 1, 10_000_000),
  /**
   * CIDR ranges of the proxies in front (an ingress, a load balancer), comma-separated: from them,
   * the client's address is read from X-Forwarded-For (for the per-address limit); from anyone
   * else the header is ignored. Empty: the socket's peer is the client.
   */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .superRefine((ranges, ctx) => {
      for (const range of ranges) {
        const parsed = parseCidr(range);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      }
    }),
  /** An upgrade request whose headers have not all arrived within this is dropped (slow-header attacks). */
  UPGRADE_TIMEOUT_MS: env.int(10_000, 100, 120_000),
  /** Unacknowledged sends and requests one socket may have in flight. */
  MAX_INFLIGHT_PER_SOCKET: env.int(256, 1, 100_000),
  /** Sends one connection may make per second, and its burst; past them the send is refused (RESOURCE_EXHAUSTED, retryAfterMs). */
  CONNECTION_SEND_RATE_PER_SEC: env.int(100, 1, 1_000_000),
  CONNECTION_SEND_BURST: env.int(400, 1, 1_000_000),
  /** A socket whose unsent output grows past this is too slow and is closed (4008); it syncs on reconnect. */
  MAX_BUFFERED_BYTES: env.int(4 * 1024 * 1024, 65_536, 1024 * 1024 * 1024),
  HEARTBEAT_INTERVAL_MS: env.int(25_000, 100, 600_000),
  SESSION_TTL_MS: env.int(60_000, 1_000, 3_600_000),
  ROUTER_DEADLINE_MS: env.int(5_000, 50, 60_000),
  /**
   * Storage calls (sync, history, convs) this connector makes at once, and how many more may
   * wait for a slot (each until its deadline); past that a request is refused at once with
   * UNAVAILABLE and retryAfterMs. A reconnect storm then queues here instead of opening tens of
   * thousands of streams that storage sheds or times out.
   */
  STORAGE_MAX_INFLIGHT: env.int(128, 1, 100_000),
  STORAGE_MAX_QUEUED: env.int(2_048, 0, 1_000_000),
  /** QoS 1 on ack=1 sockets: first resend of an unacked msg after this, then doubling. */
  RETRANSMIT_BASE_MS: env.int(1_000, 50, 600_000),
  /** Resends of one msg before it is left to the device's next sync. */
  RETRANSMIT_ATTEMPTS: env.int(4, 0, 100),
  /** Unacked msgs kept per socket; past it the oldest are left to sync. */
  MAX_UNACKED_PER_SOCKET: env.int(1_000, 1, 1_000_000),
  /** Coalescing window of recv/read positions before they go to the router. */
  RECEIPT_FLUSH_MS: env.int(1_000, 10, 60_000),
  STORAGE_DEADLINE_MS: env.int(5_000, 50, 60_000),
  /**
   * On SIGTERM each socket is closed (4009, reconnect elsewhere) at a random moment within this
   * window, so clients move to other connectors gradually. Kubernetes' terminationGracePeriodSeconds
   * must exceed it (the Helm chart derives it from this value).
   */
  DRAIN_WINDOW_MS: env.int(10_000, 0, 600_000),
}).refine((c) => c.JWT_SECRETS !== undefined || c.JWT_JWKS_URL !== undefined, {
  path: ['JWT_SECRETS'],
  message: 'set JWT_SECRETS (HS256) or JWT_JWKS_URL (RS256, ES256, EdDSA), or both',
}).refine((c) => c.DRAIN_WINDOW_MS + DRAIN_MARGIN_MS <= c.SHUTDOWN_TIMEOUT_MS, {
  path: ['DRAIN_WINDOW_MS'],
  message: `must be at most SHUTDOWN_TIMEOUT_MS - ${DRAIN_MARGIN_MS} (after the window, in-flight work and the gRPC server still need time to finish)`,
});

export type ConnectorConfig = z.infer<typeof connectorConfigSchema>;
