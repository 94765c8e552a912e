// The client listener over TLS, with the real WsListener and session core in front of an
// in-memory session directory: a wss client trusting the CA gets its welcome, untrusting and
// plaintext clients do not, refusals are the same HTTP answers; after the files are replaced by
// a certificate of another CA a new connection sees it while an open socket stays open; files
// that are not a usable pair keep the certificate in use and are reported once.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import WebSocket from 'ws';
import { ConfigError, createLogger, type TokenClaims } from '@parley/core';
import { MemorySessionDirectory } from '@parley/sessions';
import { SessionCore, type Upstream } from './session-core';
import { createWsServer, wsSecurityFrom, type WsServer } from './ws-server';
import { WsListener } from './ws-transport';

const REPO = path.resolve(__dirname, '..', '..', '..');
const pki = (dir: string) => execFileSync('bash', [path.join(REPO, 'deploy', 'local', 'pki.sh'), dir, 'connector'], { stdio: 'pipe' });

describe('wsSecurityFrom', () => {
  const base = { WS_TLS_REFRESH_MS: 60_000, WS_INSECURE: false };
  it('refuses to choose for the operator: neither TLS files nor WS_INSECURE is a config error naming both ways', () => {
    expect(() => wsSecurityFrom(base)).toThrow(ConfigError);
    expect(() => wsSecurityFrom(base)).toThrow(/WS_TLS_CERT_FILE.*WS_INSECURE=true/s);
    expect(() => wsSecurityFrom({ ...base, WS_TLS_CERT_FILE: '/c.pem' })).toThrow(/WS_TLS_KEY_FILE/);
  });
  it('refuses plaintext together with TLS files', () => {
    expect(() => wsSecurityFrom({ ...base, WS_INSECURE: true, WS_TLS_CERT_FILE: '/c.pem' })).toThrow(/choose one/);
  });
  it('reads either mode', () => {
    expect(wsSecurityFrom({ ...base, WS_INSECURE: true })).toEqual({ mode: 'insecure' });
    expect(wsSecurityFrom({ ...base, WS_TLS_CERT_FILE: '/c.pem', WS_TLS_KEY_FILE: '/c.key' })).toEqual({ mode: 'tls', certFile: '/c.pem', keyFile: '/c.key', refreshMs: 60_000 });
  });
});

describe('the connector listener over TLS', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'parley-wss-'));
  const first = path.join(root, 'first');
  const second = path.join(root, 'second');
  const live = path.join(root, 'live');
  const log = createLogger('connector-test', 'c1', 'silent');
  let listener: WsServer;
  let port = 0;
  const open: WebSocket[] = [];

  beforeAll(async () => {
    pki(first);
    pki(second);
    mkdirSync(live);
    copyFileSync(path.join(first, 'connector.pem'), path.join(live, 'connector.pem'));
    copyFileSync(path.join(first, 'connector.key'), path.join(live, 'connector.key'));
    const core = new SessionCore(
      {
        connectorId: 'c1',
        advertiseAddr: '127.0.0.1:7000',
        maxFrameBytes: 65_536,
        maxConnections: 100,
        maxDevicesPerUser: 20,
        maxInflightPerSocket: 10,
        maxBufferedBytes: 1_000_000,
        heartbeatIntervalMs: 60_000,
        sessionTtlMs: 60_000,
        retransmitBaseMs: 1_000,
        retransmitAttempts: 2,
        maxUnackedPerSocket: 3,
        receiptFlushMs: 1_000,
        drainWindowMs: 0,
        connectionSendLimit: { ratePerSec: 1_000, burst: 1_000 },
      },
      async (token): Promise<TokenClaims> => {
        if (!token.startsWith('ok-')) throw new Error('bad token');
        return { sub: token.slice(3), exp: Math.floor(Date.now() / 1000) + 3600 };
      },
      new MemorySessionDirectory(),
      {} as Upstream,
      log,
      { connections: () => {}, frameIn: () => {}, frameError: () => {}, delivered: () => {}, retransmitted: () => {}, abandoned: () => {}, qos0Dropped: () => {} },
    );
    const ws = new WsListener(core, { allowedOrigins: ['*'], maxFrameBytes: 65_536, upgradesPerIpPerSec: 1_000, upgradeBurstPerIp: 1_000, trustedProxies: [] }, log, { rejectedUpgrade: () => {} });
    // A long refresh: the test polls by hand (check()), so nothing depends on timing.
    listener = createWsServer({ mode: 'tls', certFile: path.join(live, 'connector.pem'), keyFile: path.join(live, 'connector.key'), refreshMs: 3_600_000 }, 5_000, log, (_req, res) => res.writeHead(426).end());
    listener.server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head));
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve));
    port = (listener.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of open) s.terminate();
    await listener.close();
    rmSync(root, { recursive: true, force: true });
  });

  const ca = (dir: string) => readFileSync(path.join(dir, 'ca.pem'));

  /** Opens a socket; resolves with its first frame, or rejects with the reason it did not open. */
  function connect(url: string, options: WebSocket.ClientOptions = {}): Promise<{ socket: WebSocket; welcome: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      socket.once('message', (data) => {
        open.push(socket);
        resolve({ socket, welcome: JSON.parse(data.toString()) as Record<string, unknown> });
      });
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) => {
        socket.terminate();
        reject(new Error(`HTTP ${res.statusCode}`));
      });
    });
  }

  /** The serial of the certificate a new TLS connection is shown, trusting `caDir`'s CA. */
  function servedSerial(caDir: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca(caDir), servername: 'localhost' }, () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.destroy();
        resolve(serial);
      });
      socket.once('error', reject);
    });
  }

  const serialOf = (dir: string) => new X509Certificate(readFileSync(path.join(dir, 'connector.pem'))).serialNumber;

  it('accepts a wss client that trusts the CA, and answers it as over ws', async () => {
    const { welcome } = await connect(`wss://127.0.0.1:${port}/?access_token=ok-alice&device_id=d1`, { ca: ca(first) });
    expect(welcome['type']).toBe('welcome');
    expect(listener.scheme).toBe('wss');
  });

  it('refuses a client that does not trust the CA, and a plaintext client', async () => {
    await expect(connect(`wss://127.0.0.1:${port}/?access_token=ok-bob&device_id=d1`)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    await expect(connect(`ws://127.0.0.1:${port}/?access_token=ok-bob&device_id=d1`)).rejects.toThrow();
  });

  it('keeps the refusals of the upgrade: no token is 401, a bad one too', async () => {
    await expect(connect(`wss://127.0.0.1:${port}/?device_id=d1`, { ca: ca(first) })).rejects.toThrow('HTTP 401');
    await expect(connect(`wss://127.0.0.1:${port}/?access_token=nope&device_id=d1`, { ca: ca(first) })).rejects.toThrow('HTTP 401');
  });

  it('serves a replaced certificate (another CA) to new connections while an open socket stays open', async () => {
    const { socket: before } = await connect(`wss://127.0.0.1:${port}/?access_token=ok-carol&device_id=d1`, { ca: ca(first) });
    expect(await servedSerial(first)).toBe(serialOf(first));

    copyFileSync(path.join(second, 'connector.key'), path.join(live, 'connector.key'));
    copyFileSync(path.join(second, 'connector.pem'), path.join(live, 'connector.pem'));
    expect(listener.certificates!.check()).toBe('changed');
    expect(listener.certificates!.check()).toBe('kept');

    expect(await servedSerial(second)).toBe(serialOf(second));
    await expect(servedSerial(first)).rejects.toThrow();
    const { welcome } = await connect(`wss://127.0.0.1:${port}/?access_token=ok-dave&device_id=d1`, { ca: ca(second) });
    expect(welcome['type']).toBe('welcome');

    // The socket opened under the old certificate still carries frames both ways.
    expect(before.readyState).toBe(WebSocket.OPEN);
    const answer = new Promise<Record<string, unknown>>((resolve) => before.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>)));
    before.send('not json');
    expect(await answer).toMatchObject({ type: 'error', code: 'BAD_FRAME' });
  });

  it('keeps the certificate in use when the new files are not a usable pair, and says so once per change', async () => {
    const errors = jest.spyOn(log, 'error');
    const inUse = serialOf(second);
    // A certificate of the first CA with the second's key: a mismatched pair.
    copyFileSync(path.join(first, 'connector.pem'), path.join(live, 'connector.pem'));
    expect(listener.certificates!.check()).toBe('kept');
    expect(listener.certificates!.check()).toBe('kept');
    expect(errors).toHaveBeenCalledTimes(1);
    writeFileSync(path.join(live, 'connector.pem'), 'not a certificate');
    expect(listener.certificates!.check()).toBe('kept');
    expect(listener.certificates!.check()).toBe('kept');
    expect(errors).toHaveBeenCalledTimes(2);
    rmSync(path.join(live, 'connector.pem'));
    expect(listener.certificates!.check()).toBe('kept');
    expect(listener.certificates!.check()).toBe('kept');
    expect(errors).toHaveBeenCalledTimes(3);
    expect(await servedSerial(second)).toBe(inUse);
    // Good files again: used.
    copyFileSync(path.join(first, 'connector.pem'), path.join(live, 'connector.pem'));
    copyFileSync(path.join(first, 'connector.key'), path.join(live, 'connector.key'));
    expect(listener.certificates!.check()).toBe('changed');
    expect(await servedSerial(first)).toBe(serialOf(first));
    errors.mockRestore();
  });

  it('refuses to start on files that are not a certificate and key, naming them', () => {
    expect(() => createWsServer({ mode: 'tls', certFile: path.join(root, 'missing.pem'), keyFile: path.join(root, 'missing.key'), refreshMs: 1_000 }, 5_000, log, () => {})).toThrow(/missing\.pem/);
  });
});
