// Owns service identity between Parley's own processes: mutual TLS on every gRPC port, with
// certificates read from files (cert-manager's Secrets on Kubernetes, a throw-away CA under
// .local/ locally) and reloaded when they change. A service is who its certificate's URI SAN
// says (spiffe://parley/service/<name>), issued by the CA Parley trusts; a client checks the
// server it reached is the service it meant to call, whatever address it dialled.
import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ConfigError } from './config';

export const SERVICE_NAMES = ['connector', 'router', 'storage', 'push'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const URI_PREFIX = 'spiffe://parley/service/';

/** The identity a Parley service's certificate carries (a URI subject alternative name). */
export function serviceUri(service: ServiceName): string {
  return `${URI_PREFIX}${service}`;
}

/** The Parley service a certificate names, if it names exactly one. */
export function serviceOfCertificate(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): ServiceName | undefined {
  const names = (cert?.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  const services = names.filter((n) => n.startsWith(URI_PREFIX)).map((n) => n.slice(URI_PREFIX.length));
  if (services.length !== 1) return undefined;
  return (SERVICE_NAMES as readonly string[]).includes(services[0]!) ? (services[0] as ServiceName) : undefined;
}

export type GrpcSecurity = { mode: 'insecure' } | { mode: 'mtls'; certFile: string; keyFile: string; caFile: string; refreshMs: number };

/** The gRPC security a config asks for; plaintext only when GRPC_INSECURE says so. */
export function grpcSecurityFrom(config: {
  GRPC_TLS_CERT_FILE?: string | undefined;
  GRPC_TLS_KEY_FILE?: string | undefined;
  GRPC_TLS_CA_FILE?: string | undefined;
  GRPC_TLS_REFRESH_MS: number;
  GRPC_INSECURE: boolean;
}): GrpcSecurity {
  const files = { GRPC_TLS_CERT_FILE: config.GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE: config.GRPC_TLS_KEY_FILE, GRPC_TLS_CA_FILE: config.GRPC_TLS_CA_FILE };
  const set = Object.entries(files).filter(([, v]) => v !== undefined);
  if (config.GRPC_INSECURE) {
    if (set.length > 0) throw new ConfigError([`GRPC_INSECURE: plaintext was asked for, but ${set.map(([k]) => k).join(', ')} set too; choose one`]);
    return { mode: 'insecure' };
  }
  const missing = Object.entries(files).filter(([, v]) => v === undefined).map(([k]) => `${k}: required for mutual TLS between services (or GRPC_INSECURE=true, for development only) (not set)`);
  if (missing.length > 0) throw new ConfigError(missing);
  return { mode: 'mtls', certFile: files.GRPC_TLS_CERT_FILE!, keyFile: files.GRPC_TLS_KEY_FILE!, caFile: files.GRPC_TLS_CA_FILE!, refreshMs: config.GRPC_TLS_REFRESH_MS };
}

/** One watcher per set of files: every server and channel of a process shares it. */
const providers = new Map<string, grpc.experimental.FileWatcherCertificateProvider>();

function provider(sec: Extract<GrpcSecurity, { mode: 'mtls' }>): grpc.experimental.FileWatcherCertificateProvider {
  // Fail at start with the file's name rather than at the first handshake.
  for (const file of [sec.certFile, sec.keyFile, sec.caFile]) {
    try {
      readFileSync(file);
    } catch (err) {
      throw new ConfigError([`${file}: cannot be read (${(err as Error).message})`]);
    }
  }
  const key = `${sec.certFile}|${sec.keyFile}|${sec.caFile}|${sec.refreshMs}`;
  let p = providers.get(key);
  if (!p) {
    p = new grpc.experimental.FileWatcherCertificateProvider({ certificateFile: sec.certFile, privateKeyFile: sec.keyFile, caCertificateFile: sec.caFile, refreshIntervalMs: sec.refreshMs });
    providers.set(key, p);
  }
  return p;
}

/**
 * A server's credentials: TLS with this service's certificate, asking every caller for one.
 * A caller without a certificate (a team with an API key) still gets a TLS session; the
 * method's rule decides whether a key will do (authz.ts).
 */
export function serverCredentials(sec: GrpcSecurity): grpc.ServerCredentials {
  if (sec.mode === 'insecure') return grpc.ServerCredentials.createInsecure();
  const p = provider(sec);
  return grpc.experimental.createCertificateProviderServerCredentials(p, p, false);
}

/** tls.checkServerIdentity for a connection to `expected`: identity, not address (connectors are dialled by pod IP). */
export function checkServiceIdentity(expected: ServiceName): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const service = serviceOfCertificate(cert);
    return service === expected ? undefined : new Error(`the server is ${service ? `the ${service} service` : 'not a Parley service'}, not ${expected}`);
  };
}

/** A channel's credentials to one Parley service: our certificate, and the server must be `expected`. */
export function channelCredentials(sec: GrpcSecurity, expected: ServiceName): grpc.ChannelCredentials {
  if (sec.mode === 'insecure') return grpc.credentials.createInsecure();
  const p = provider(sec);
  return grpc.experimental.createCertificateProviderChannelCredentials(p, p, { checkServerIdentity: checkServiceIdentity(expected) });
}

/**
 * Who called, per connection: a TLS connection's verified peer certificate cannot change while it
 * is open (HTTP/2 forbids TLS renegotiation, RFC 9113 §9.2.1), so it is read once per connection.
 * Reading it (TLSSocket.getPeerCertificate, which grpc-js's getAuthContext does on every call)
 * builds the whole certificate as objects: 5-7 % of the router's and connector's CPU in the bench's
 * profile. Keyed by the socket itself, so an entry dies with its connection.
 */
const identities = new WeakMap<object, ServiceName | null>();

type AuthCall = { getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | null };

/** The TLS socket under a grpc-js server call (ServerUnaryCall.call.stream.session.socket), when grpc-js exposes it so. */
function connectionOf(call: AuthCall): object | undefined {
  const socket = (call as { call?: { stream?: { session?: { socket?: unknown } } } }).call?.stream?.session?.socket;
  return typeof socket === 'object' && socket !== null ? socket : undefined;
}

/** The Parley service that called, proven by a certificate the server verified against the CA. */
export function peerServiceOf(call: AuthCall): ServiceName | undefined {
  const socket = connectionOf(call);
  if (socket !== undefined) {
    const known = identities.get(socket);
    if (known !== undefined) return known ?? undefined;
  }
  // grpc-js gives the peer certificate only when the TLS session verified it (the handshake is
  // over before any call arrives, so the answer is final for this connection).
  const service = serviceOfCertificate(call.getAuthContext?.()?.sslPeerCertificate);
  if (socket !== undefined) identities.set(socket, service ?? null);
  return service;
}
