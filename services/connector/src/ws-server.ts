// Owns the connector's client-facing HTTP server: plaintext ws:// only when configured so
// (WS_INSECURE, for TLS that ends at an ingress or for local development), otherwise wss://
// with a certificate and key read from files and read again every WS_TLS_REFRESH_MS. A
// renewed certificate (cert-manager rewrites the Secret's files) goes into new handshakes via
// setSecureContext, so open sockets stay where they are; files that do not make a usable pair
// keep the certificate in use and are reported once per change, not once per poll.
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { X509Certificate, createHash } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ConfigError, type Logger } from '@parley/core';

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

export interface CertificatePair {
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate's serial and end of validity, for logs and the expiry gauge. */
  serial: string;
  notAfter: Date;
}

/** Reads and checks a certificate file and its key: a pair that cannot make a TLS context throws. */
export function readCertificatePair(certFile: string, keyFile: string): CertificatePair {
  const cert = readFileSync(certFile);
  const key = readFileSync(keyFile);
  // Throws on a malformed PEM and on a key that is not the certificate's ("key values mismatch").
  createSecureContext({ cert, key });
  const leaf = new X509Certificate(cert);
  return { cert, key, serial: leaf.serialNumber, notAfter: new Date(leaf.validTo) };
}

function fingerprint(...parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p).update('\0');
  return hash.digest('hex');
}

/**
 * Watches a certificate and key by reading them (bounded: two small files per poll). Reading
 * rather than stat-ing sees Kubernetes' atomic symlink swap of a Secret volume as well as an
 * in-place rewrite; the fingerprint of the last files tried makes a broken pair one error.
 */
export class CertificateWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastTried: string;
  current: CertificatePair;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly apply: (pair: CertificatePair) => void,
    private readonly log: Logger,
  ) {
    try {
      this.current = readCertificatePair(certFile, keyFile);
    } catch (err) {
      // At start a missing or broken pair is a configuration error naming the files.
      throw new ConfigError([`WS_TLS_CERT_FILE/WS_TLS_KEY_FILE: ${certFile} and ${keyFile} do not make a usable certificate (${(err as Error).message})`]);
    }
    this.lastTried = fingerprint(this.current.cert, this.current.key);
  }

  start(refreshMs: number): void {
    this.timer = setInterval(() => this.check(), refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One poll: 'changed' when a new pair went into use, 'kept' when the files did not change or are unusable. */
  check(): 'changed' | 'kept' {
    let seen: string;
    try {
      seen = fingerprint(readFileSync(this.certFile), readFileSync(this.keyFile));
    } catch (err) {
      // A file missing for a moment (a Secret being rewritten) is one change too, reported once.
      seen = `unreadable: ${(err as Error).message}`;
    }
    if (seen === this.lastTried) return 'kept';
    this.lastTried = seen;
    let pair: CertificatePair;
    try {
      pair = readCertificatePair(this.certFile, this.keyFile);
    } catch (err) {
      this.log.error(
        { err, certFile: this.certFile, keyFile: this.keyFile, serial: this.current.serial },
        'WebSocket TLS files changed but are not a usable certificate and key; the previous certificate stays in use',
      );
      return 'kept';
    }
    // The files may have changed again between the two reads: remember what was loaded.
    this.lastTried = fingerprint(pair.cert, pair.key);
    this.apply(pair);
    this.current = pair;
    this.log.info({ serial: pair.serial, notAfter: pair.notAfter.toISOString() }, 'WebSocket TLS certificate reloaded');
    return 'changed';
  }
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
