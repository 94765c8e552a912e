// Owns the HTTP/JSON form of Parley's API: the unary calls of the Connect protocol
// (`POST /parley.v1.Storage/CreateGroup`, a JSON or binary protobuf body, errors as
// `{"code": "permission_denied", "message": ...}` with the HTTP status Connect gives each code),
// so `curl`, scripts and Connect clients reach the same methods as gRPC callers. Each request
// becomes the call a gRPC client would make (same bytes, same metadata) and goes through
// GrpcServer.dispatch: one authentication, one scope check, one admission gate, one audit
// line for both forms. A caller here is always a key (no service certificate is asked for).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { JsonShapeError } from '@parley/proto';
import type { GrpcServer, HttpMethod } from './grpc';
import type { Logger } from './log';
import type { GrpcSecurity } from './peer';
import { CertificateWatcher } from './tls-files';

/** Connect's name and HTTP status for each gRPC status (connectrpc.com/docs/protocol#error-codes). */
const CONNECT_CODES: Record<number, [string, number]> = {
  [grpc.status.CANCELLED]: ['canceled', 499],
  [grpc.status.UNKNOWN]: ['unknown', 500],
  [grpc.status.INVALID_ARGUMENT]: ['invalid_argument', 400],
  [grpc.status.DEADLINE_EXCEEDED]: ['deadline_exceeded', 504],
  [grpc.status.NOT_FOUND]: ['not_found', 404],
  [grpc.status.ALREADY_EXISTS]: ['already_exists', 409],
  [grpc.status.PERMISSION_DENIED]: ['permission_denied', 403],
  [grpc.status.RESOURCE_EXHAUSTED]: ['resource_exhausted', 429],
  [grpc.status.FAILED_PRECONDITION]: ['failed_precondition', 400],
  [grpc.status.ABORTED]: ['aborted', 409],
  [grpc.status.OUT_OF_RANGE]: ['out_of_range', 400],
  [grpc.status.UNIMPLEMENTED]: ['unimplemented', 501],
  [grpc.status.INTERNAL]: ['internal', 500],
  [grpc.status.UNAVAILABLE]: ['unavailable', 503],
  [grpc.status.DATA_LOSS]: ['data_loss', 500],
  [grpc.status.UNAUTHENTICATED]: ['unauthenticated', 401],
};

/** Request headers that go on into the call's metadata (the rest are HTTP's own business). */
const FORWARDED_HEADERS = ['authorization', 'traceparent', 'tracestate'] as const;

/** Connections one HTTP API listener holds at most (API callers are backends: a few per team). */
const MAX_CONNECTIONS = 4_096;

/** The longest deadline a caller may ask for with connect-timeout-ms (10 digits, as Connect allows). */
const MAX_TIMEOUT_MS = 9_999_999_999;

export interface HttpApiOptions {
  host: string;
  port: number;
  security: GrpcSecurity;
  /** Largest request body taken (larger: 413, resource_exhausted). */
  maxBodyBytes: number;
}

export interface HttpApi {
  port: number;
  /** Stops taking requests; lets those under way finish for up to graceMs. */
  close(graceMs: number): Promise<void>;
}

type Encoding = 'json' | 'proto';

function encodingOf(contentType: string | undefined): Encoding | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/proto' || type === 'application/protobuf') return 'proto';
  return undefined;
}

function sendError(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  const [code, httpStatus] = CONNECT_CODES[status] ?? CONNECT_CODES[grpc.status.UNKNOWN]!;
  const body = JSON.stringify({ code, message });
  if (res.headersSent) return void res.destroy();
  res.writeHead(httpStatus, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Reads a body of at most `max` bytes; undefined when it is larger. The rest of a larger body is
 * read and dropped (within the request timeout), not kept, so that the refusal still reaches a
 * client that sent no content-length instead of a reset connection.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > max) return resolve(undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    const collect = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        req.off('data', collect);
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', collect);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Serves one request: parse, dispatch as a gRPC call, answer in the request's encoding. */
async function serve(api: GrpcServer, log: Logger, options: HttpApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = (req.url ?? '').split('?')[0]!;
  const target = api.httpMethod(path);
  if (!target) return sendError(res, grpc.status.UNIMPLEMENTED, `no method ${path}: POST /parley.v1.<Service>/<Method> (docs/API.md)`);
  if (req.method !== 'POST') return sendError(res, grpc.status.UNIMPLEMENTED, `${path} takes POST`, { allow: 'POST' });
  const encoding = encodingOf(req.headers['content-type']);
  if (!encoding) {
    res.writeHead(415, { accept: 'application/json, application/proto', 'content-length': 0 });
    return void res.end();
  }
  const compressed = req.headers['content-encoding'];
  if (compressed && compressed !== 'identity') return sendError(res, grpc.status.UNIMPLEMENTED, `content-encoding ${compressed} is not supported; send identity`, { 'accept-encoding': 'identity' });
  const timeout = req.headers['connect-timeout-ms'];
  if (timeout !== undefined && !(typeof timeout === 'string' && /^\d{1,10}$/.test(timeout) && Number(timeout) <= MAX_TIMEOUT_MS)) {
    return sendError(res, grpc.status.INVALID_ARGUMENT, 'connect-timeout-ms must be a whole number of milliseconds (at most 10 digits)');
  }
  const deadline = timeout === undefined ? Infinity : new Date(Date.now() + Number(timeout));

  const body = await readBody(req, options.maxBodyBytes);
  if (body === undefined) return sendError(res, grpc.status.RESOURCE_EXHAUSTED, `request body larger than ${options.maxBodyBytes} bytes`, { connection: 'close' });
  let request: unknown;
  try {
    const bytes = encoding === 'json' ? target.codec.requestFromJson(body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown)) : body;
    request = target.deserialize(bytes);
  } catch (err) {
    const why = err instanceof JsonShapeError || err instanceof SyntaxError ? err.message : 'not a valid protobuf message';
    return sendError(res, grpc.status.INVALID_ARGUMENT, `request body: ${why}`);
  }

  const metadata = new grpc.Metadata();
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string') metadata.set(name, value);
  }
  const call = {
    request,
    metadata,
    cancelled: false,
    getDeadline: () => deadline,
    getPeer: () => `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? 0}`,
    getPath: () => path,
  };
  res.on('close', () => {
    if (!res.writableFinished) call.cancelled = true;
  });
  api.dispatch(target.method, target.handler, call as unknown as grpc.ServerUnaryCall<unknown, unknown>, (err, value) => {
    if (err) {
      const headers: Record<string, string> = {};
      const status = err as Partial<grpc.StatusObject> & { message?: string };
      for (const [k, v] of Object.entries(status.metadata?.getMap() ?? {})) if (k.startsWith('parley-') && typeof v === 'string') headers[k] = v;
      return sendError(res, status.code ?? grpc.status.UNKNOWN, status.details ?? status.message ?? 'error', headers);
    }
    answer(target, encoding, res, value, log);
  }, undefined);
}

function answer(target: HttpMethod, encoding: Encoding, res: http.ServerResponse, value: unknown, log: Logger): void {
  let bytes: Buffer;
  try {
    bytes = target.serialize(value);
    if (encoding === 'json') bytes = Buffer.from(JSON.stringify(target.codec.responseToJson(bytes)));
  } catch (err) {
    log.error({ err, method: target.method }, 'encoding an HTTP API response failed');
    return sendError(res, grpc.status.INTERNAL, 'internal error');
  }
  res.writeHead(200, { 'content-type': encoding === 'json' ? 'application/json' : 'application/proto', 'content-length': bytes.length });
  res.end(bytes);
}

/**
 * The listener: HTTPS with the gRPC certificate (re-read every refreshMs, swapped in for new
 * connections when it changes: a rotated certificate is served without a restart), or plain
 * HTTP under GRPC_INSECURE. Every stage is bounded: headers 10 s, a whole request 30 s, idle
 * keep-alive 5 s, at most 100 headers, bodies at maxBodyBytes, MAX_CONNECTIONS connections.
 */
export async function startHttpApi(api: GrpcServer, log: Logger, options: HttpApiOptions): Promise<HttpApi> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    serve(api, log, options, req, res).catch((err: unknown) => {
      log.error({ err }, 'HTTP API request failed');
      sendError(res, grpc.status.INTERNAL, 'internal error');
    });
  };
  const sec = options.security;
  let server: http.Server | https.Server;
  let certificates: CertificateWatcher | undefined;
  if (sec.mode === 'mtls') {
    certificates = new CertificateWatcher(
      'HTTP API TLS (GRPC_TLS_CERT_FILE, GRPC_TLS_KEY_FILE)',
      sec.certFile,
      sec.keyFile,
      // Runs only from check(), after tlsServer exists.
      (pair) => tlsServer.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' }),
      log,
    );
    const first = certificates.current;
    const tlsServer = https.createServer({ cert: first.cert, key: first.key, minVersion: 'TLSv1.2', handshakeTimeout: 10_000 }, handler);
    tlsServer.on('tlsClientError', (err) => log.debug({ err }, 'HTTP API TLS handshake failed'));
    certificates.start(sec.refreshMs);
    server = tlsServer;
  } else {
    server = http.createServer(handler);
  }
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 100;
  // Open connections are bounded too (each costs a socket and its buffers); past it the kernel's
  // accept is answered by closing the new connection at once.
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        certificates?.stop();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
