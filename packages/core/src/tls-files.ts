// Owns certificate files a server reads itself (the connector's wss:// listener, the HTTP/JSON
// API; gRPC has grpc-js's own watcher): read, checked as a pair, and read again on a timer, a
// changed pair put into use only once it makes a TLS context, a broken one reported once.
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './config';
import type { Logger } from './log';

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
    /** What the files are for, in errors and log lines ("WebSocket TLS (WS_TLS_CERT_FILE, ...)"). */
    private readonly purpose: string,
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly apply: (pair: CertificatePair) => void,
    private readonly log: Logger,
  ) {
    try {
      this.current = readCertificatePair(certFile, keyFile);
    } catch (err) {
      // At start a missing or broken pair is a configuration error naming the files.
      throw new ConfigError([`${purpose}: ${certFile} and ${keyFile} do not make a usable certificate (${(err as Error).message})`]);
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
        `${this.purpose}: the files changed but are not a usable certificate and key; the previous certificate stays in use`,
      );
      return 'kept';
    }
    // The files may have changed again between the two reads: remember what was loaded.
    this.lastTried = fingerprint(pair.cert, pair.key);
    this.apply(pair);
    this.current = pair;
    this.log.info({ serial: pair.serial, notAfter: pair.notAfter.toISOString() }, `${this.purpose}: certificate reloaded`);
    return 'changed';
  }
}

