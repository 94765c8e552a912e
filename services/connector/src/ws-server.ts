// Owns the connector's client-facing HTTP server: plaintext ws:// only when configured so
// (WS_INSECURE, for TLS that ends at an ingress or for local development), otherwise wss://
// with a certificate and key read from files and read again every WS_TLS_REFRESH_MS. A
// renewed certificate (cert-manager rewrites the Secret's files) goes into new handshakes via
// setSecureContext, so open sockets stay where they are; files that do not make a usable pair
// keep the certificate in use and are reported once per change, not once per poll.
import * as http from 'node:http';
import * as https from 'node:https';
import { CertificateWatcher, ConfigError, type CertificatePair, type Logger } from '@parley/core';

export type WsSecurity = { mode: 'insecure' } | { mode: 'tls'; certFile: string; keyFile: string; refreshMs: number };

/** The client listener's security a config asks for; plaintext only when WS_INSECURE says so. */
export function wsSecurityFrom(config: { WS_TLS_CERT_FILE?: string | undefined; WS_TLS_KEY_FILE?: string | undefined; WS_TLS_REFRESH_MS: number; WS_INSECURE: boolean }): WsSecurity {
  const files = { WS_TLS_CERT_FILE: config.WS_TLS_CERT_FILE, WS_TLS_KEY_FILE: config.WS_TLS_KEY_FILE };
  const set = Object.entries(files).filter(([, v]) => v !== undefined);
  if (config.WS_INSECURE) {
    if (set.length > 0) throw new ConfigError([`WS_INSECURE: plaintext was asked for, but ${set.map(([k]) => k).join(', ')} set too; choose one`]);
    return { mode: 'insecure' };
  }
  const missing = Object.entries(files)
    .filter(([, v]) => v === undefined)
    .map(([k]) => `${k}: required for wss:// (or WS_INSECURE=true when TLS ends at an ingress in front of the connector, or for local development) (not set)`);
  if (missing.length > 0) throw new ConfigError(missing);
  return { mode: 'tls', certFile: files.WS_TLS_CERT_FILE!, keyFile: files.WS_TLS_KEY_FILE!, refreshMs: config.WS_TLS_REFRESH_MS };
}

export interface WsServer {
  server: http.Server;
  /** The certificate watcher when the listener speaks TLS. */
  certificates: CertificateWatcher | undefined;
  scheme: 'ws' | 'wss';
  close(): Promise<void>;
}

/**
 * The client listener, plaintext or TLS, with the same request handler and timeouts; the
 * caller attaches the 'upgrade' handler. `timeoutMs` bounds the TLS handshake and the
 * upgrade request's headers (slow-handshake and slow-header attacks).
 */
export function createWsServer(security: WsSecurity, timeoutMs: number, log: Logger, onRequest: http.RequestListener, onCertificate?: (pair: CertificatePair) => void): WsServer {
  // Timeouts are checked every connectionsCheckingInterval (Node's default 30 s would let timeoutMs run late).
  const common: http.ServerOptions = { connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(timeoutMs / 2))) };
  let server: http.Server;
  let certificates: CertificateWatcher | undefined;
  if (security.mode === 'insecure') {
    server = http.createServer(common, onRequest);
  } else {
    // apply runs only from check(), after tlsServer exists.
    certificates = new CertificateWatcher(
      'WebSocket TLS (WS_TLS_CERT_FILE, WS_TLS_KEY_FILE)',
      security.certFile,
      security.keyFile,
      (pair) => {
        tlsServer.setSecureContext({ cert: pair.cert, key: pair.key, minVersion: 'TLSv1.2' });
        onCertificate?.(pair);
      },
      log,
    );
    const first = certificates.current;
    onCertificate?.(first);
    const tlsServer = https.createServer({ ...common, cert: first.cert, key: first.key, minVersion: 'TLSv1.2', handshakeTimeout: timeoutMs }, onRequest);
    // A client that fails its handshake (plaintext on a TLS port, an untrusted certificate) is its own problem.
    tlsServer.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
    certificates.start(security.refreshMs);
    server = tlsServer;
  }
  // A client must send its whole upgrade request within timeoutMs (Node's default is 60 s).
  server.headersTimeout = timeoutMs;
  server.requestTimeout = timeoutMs;
  return {
    server,
    certificates,
    scheme: security.mode === 'tls' ? 'wss' : 'ws',
    close: () => {
      certificates?.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
