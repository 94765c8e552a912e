// Who may call what, over real TLS on loopback with certificates from deploy/local/pki.sh:
// a service is known by its certificate, a team by its API key and scopes; an outsider (no
// credential, a certificate from another CA, a certificate that names no service, a key
// without the scope) is refused before the handler runs; a client will not talk to a server
// that is not the service it meant to call.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import { parleyGrpc } from '@parley/proto';
import { CachedKeyVerifier, METHOD_RULES, authorize, authorizeSender, bearerOf, newApiKey, parseApiKey, secretMatches, type KeyVerifier, type Principal, type Scope } from './authz';
import { ParleyError } from './errors';
import { GrpcServer, callUnary, createApiClient, createClient, unaryHandler } from './grpc';
import { createLogger } from './log';
import { serviceOfCertificate, type GrpcSecurity, type ServiceName } from './peer';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const log = createLogger('test', 'test-0', 'silent');

describe('access rules', () => {
  it('give each internal method to the services that call it, and public ones to scoped keys', () => {
    const service = (s: ServiceName): Principal => ({ kind: 'service', service: s });
    const key = (...scopes: Scope[]): Principal => ({ kind: 'key', keyId: 'k', name: 'n', scopes });
    expect(authorize('Connector.Deliver', service('push'))).toBeUndefined();
    expect(authorize('Connector.Deliver', service('router'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Connector.Deliver', key('conversations:admin', 'messages:send-as', 'messages:read-all', 'keys:admin'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.Membership', service('router'))).toBeUndefined();
    expect(authorize('Storage.Membership', service('connector'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Router.Send', key('messages:send-as'))).toBeUndefined();
    expect(authorize('Router.Send', key('messages:read'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.AddMembers', service('connector'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.AddMembers', key('conversations:read'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.AddMembers', key('conversations:admin'))).toBeUndefined();
    expect(authorize('Keys.CreateKey', key('conversations:admin'))?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.NoSuchMethod', { kind: 'development' })?.code).toBe('PERMISSION_DENIED');
  });

  it('keep users and bots apart: each credential sends as its own kind of identity only', () => {
    const connector: Principal = { kind: 'service', service: 'connector' };
    const sendAs: Principal = { kind: 'key', keyId: 'k', name: 'n', scopes: ['messages:send-as'] };
    const everything: Principal = { kind: 'key', keyId: 'b', name: 'bootstrap', scopes: ['conversations:admin', 'messages:send-as', 'messages:send-as-bot', 'keys:admin'] };
    const bot: Principal = { kind: 'key', keyId: 's', name: 'support', scopes: ['messages:send-as-bot'], botId: 'bot:support' };
    // The method rule lets a bot key call Send and SendBatch, not the connector's SendMany.
    expect(authorize('Router.Send', bot)).toBeUndefined();
    expect(authorize('Router.SendBatch', bot)).toBeUndefined();
    expect(authorize('Router.SendMany', bot)?.code).toBe('PERMISSION_DENIED');
    expect(authorize('Storage.AddBots', { kind: 'key', keyId: 'k', name: 'n', scopes: ['conversations:admin'] })).toBeUndefined();
    expect(authorize('Storage.RemoveBots', sendAs)?.code).toBe('PERMISSION_DENIED');
    // Users.
    expect(authorizeSender(connector, 'alice')).toBeUndefined();
    expect(authorizeSender(sendAs, 'alice')).toBeUndefined();
    expect(authorizeSender({ kind: 'development' }, 'alice')).toBeUndefined();
    expect(authorizeSender(bot, 'alice')?.code).toBe('PERMISSION_DENIED');
    expect(authorizeSender({ kind: 'service', service: 'push' }, 'alice')?.code).toBe('PERMISSION_DENIED');
    expect(authorizeSender({ kind: 'key', keyId: 'k', name: 'n', scopes: ['messages:read'] }, 'alice')?.code).toBe('PERMISSION_DENIED');
    // Bots: only the bot's own key; neither "any user", nor a connector, nor development, nor a key with every scope but no bot.
    expect(authorizeSender(bot, 'bot:support')).toBeUndefined();
    for (const other of [connector, sendAs, everything, { kind: 'development' } as const]) expect(authorizeSender(other, 'bot:support')?.code).toBe('PERMISSION_DENIED');
    expect(authorizeSender(bot, 'bot:billing')?.code).toBe('PERMISSION_DENIED');
    // A bot id the key names but without the scope grants nothing.
    expect(authorizeSender({ kind: 'key', keyId: 's', name: 'n', scopes: ['messages:send-as'], botId: 'bot:support' }, 'bot:support')?.code).toBe('PERMISSION_DENIED');
    // Reserved ids that are no bot's: nobody.
    for (const reserved of ['system', 'system:notices', 'bot:Support', 'bot:']) {
      for (const p of [bot, sendAs, connector, { kind: 'development' } as const]) expect(authorizeSender(p, reserved)?.code).toBe('PERMISSION_DENIED');
    }
  });

  it('cover every method of every Parley service in proto/', () => {
    const api = parleyGrpc().parley.v1;
    const methods = Object.entries({ Connector: api.Connector, Router: api.Router, Storage: api.Storage, Keys: api.Keys }).flatMap(([name, svc]) =>
      Object.values(svc.service).map((m) => `${name}.${(m as { originalName?: string; path: string }).path.split('/').pop()}`),
    );
    expect(methods.filter((m) => !METHOD_RULES[m])).toEqual([]);
    expect(Object.keys(METHOD_RULES).filter((m) => !methods.includes(m))).toEqual([]);
  });
});

describe('API keys', () => {
  it('are pk_<id>_<secret>; only the hash of the secret is needed to check one, in constant time', () => {
    const k = newApiKey();
    const parsed = parseApiKey(k.bearer)!;
    expect(parsed.keyId).toBe(k.keyId);
    expect(secretMatches(parsed.secret, k.secretHash)).toBe(true);
    expect(secretMatches(`${parsed.secret.slice(0, -1)}${parsed.secret.endsWith('A') ? 'B' : 'A'}`, k.secretHash)).toBe(false);
    for (const bad of ['', 'pk_', `pk_${k.keyId}`, `pk_${k.keyId}_${parsed.secret}==`, `pk_${k.keyId.toUpperCase()}_${parsed.secret}`, `xk_${k.keyId}_${parsed.secret}`, `pk_${k.keyId}_${parsed.secret}_x`]) {
      expect(parseApiKey(bad)).toBeUndefined();
    }
  });

  it('come as an Authorization bearer, the scheme in any case', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bEaReR   abc ')).toBe('abc');
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(bearerOf(undefined)).toBeUndefined();
  });

  it('are remembered for the TTL, hits and refusals alike, but a transient failure is asked again', async () => {
    let now = 0;
    const answers: (() => Promise<Extract<Principal, { kind: 'key' }>>)[] = [];
    let asked = 0;
    const inner: KeyVerifier = {
      verify: () => {
        asked++;
        return answers.shift()!();
      },
    };
    const cache = new CachedKeyVerifier(inner, 2_000, 10, () => now);
    const principal = { kind: 'key' as const, keyId: 'k', name: 'n', scopes: ['messages:read' as const] };
    answers.push(async () => principal);
    await expect(cache.verify('a')).resolves.toEqual(principal);
    now = 1_999;
    await expect(cache.verify('a')).resolves.toEqual(principal);
    expect(asked).toBe(1);
    // Past the TTL: asked again, and a revocation is seen.
    now = 2_000;
    answers.push(async () => Promise.reject(new ParleyError('UNAUTHENTICATED', 'invalid API key')));
    await expect(cache.verify('a')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(cache.verify('a')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(asked).toBe(2);
    // A store that is down is not an answer.
    answers.push(async () => Promise.reject(new ParleyError('UNAVAILABLE', 'down')), async () => principal);
    await expect(cache.verify('b')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await new Promise((resolve) => setImmediate(resolve));
    await expect(cache.verify('b')).resolves.toEqual(principal);
    expect(asked).toBe(4);
  });
});

describe('mutual TLS between services, API keys for everyone else', () => {
  let dir: string;
  let rogueDir: string;
  let server: GrpcServer;
  let address: string;
  const seen: (Principal | undefined)[] = [];
  const team = newApiKey();
  const teamKey = { keyId: team.keyId, name: 'team', scopes: ['conversations:admin' as const] };
  const mtls = (d: string, name: string): GrpcSecurity => ({ mode: 'mtls', certFile: path.join(d, `${name}.pem`), keyFile: path.join(d, `${name}.key`), caFile: path.join(d, 'ca.pem'), refreshMs: 60_000 });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parley-pki-'));
    rogueDir = mkdtempSync(path.join(tmpdir(), 'parley-rogue-'));
    const pki = path.join(REPO_ROOT, 'deploy', 'local', 'pki.sh');
    // Our CA's four services and an outsider it vouches for; another CA's "router".
    execFileSync('bash', [pki, dir, 'connector', 'router', 'storage', 'push', 'intruder']);
    execFileSync('bash', [pki, rogueDir, 'router']);
    const keys: KeyVerifier = {
      verify: async (bearer) => {
        const parsed = parseApiKey(bearer);
        if (parsed && parsed.keyId === team.keyId && secretMatches(parsed.secret, team.secretHash)) return { kind: 'key', ...teamKey };
        throw new ParleyError('UNAUTHENTICATED', 'invalid API key');
      },
    };
    server = new GrpcServer(log, { reflection: false, security: mtls(dir, 'storage'), keys });
    const answer = async (_req: unknown, ctx: { principal: Principal | undefined }) => {
      seen.push(ctx.principal);
      return { conversationId: 'c', kind: 'CONVERSATION_KIND_GROUP', createdAt: 0, lastSeq: 0, memberCount: 1 };
    };
    server.addService('parley.v1.Storage', parleyGrpc().parley.v1.Storage.service, {
      Membership: unaryHandler('Storage.Membership', log, async (req, ctx) => (await answer(req, ctx), { member: true, memberCount: 1, memberIds: [], complete: false })),
      GetConversation: unaryHandler('Storage.GetConversation', log, answer),
      AddMembers: unaryHandler('Storage.AddMembers', log, answer),
    } as unknown as grpc.UntypedServiceImplementation);
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    server.setServing(true);
  });

  afterAll(async () => {
    await server.stop(1_000);
    rmSync(dir, { recursive: true, force: true });
    rmSync(rogueDir, { recursive: true, force: true });
  });

  const Storage = () => parleyGrpc().parley.v1.Storage;
  async function membership(client: InstanceType<ReturnType<typeof Storage>>): Promise<string> {
    try {
      await callUnary('Storage.Membership', 5_000, (md, opts, cb) => client.membership({ conversationId: 'c', userId: 'u' }, md, opts, cb));
      return 'OK';
    } catch (err) {
      return (err as ParleyError).code;
    } finally {
      client.close();
    }
  }
  async function getConversation(client: InstanceType<ReturnType<typeof Storage>>): Promise<string> {
    try {
      await callUnary('Storage.GetConversation', 5_000, (md, opts, cb) => client.getConversation({ conversationId: 'c' }, md, opts, cb));
      return 'OK';
    } catch (err) {
      return (err as ParleyError).code;
    } finally {
      client.close();
    }
  }

  it('knows a service by its certificate and lets it call only its own methods', async () => {
    seen.length = 0;
    expect(await membership(createClient(Storage(), address, mtls(dir, 'router'), 'storage'))).toBe('OK');
    expect(seen).toEqual([{ kind: 'service', service: 'router' }]);
    expect(await membership(createClient(Storage(), address, mtls(dir, 'connector'), 'storage'))).toBe('PERMISSION_DENIED');
    expect(await getConversation(createClient(Storage(), address, mtls(dir, 'router'), 'storage'))).toBe('PERMISSION_DENIED');
    expect(seen).toHaveLength(1);
  });

  it('reads a connection\'s peer certificate once, not on every call, and never mixes up two connections', async () => {
    const original = tls.TLSSocket.prototype.getPeerCertificate;
    let reads = 0;
    const spy = jest.spyOn(tls.TLSSocket.prototype, 'getPeerCertificate').mockImplementation(function (this: tls.TLSSocket, ...args: [boolean?]) {
      reads++;
      return (original as (this: tls.TLSSocket, detailed?: boolean) => tls.PeerCertificate).apply(this, args);
    });
    try {
      seen.length = 0;
      const router = createClient(Storage(), address, mtls(dir, 'router'), 'storage');
      const call = () => callUnary('Storage.Membership', 5_000, (md, opts, cb) => router.membership({ conversationId: 'c', userId: 'u' }, md, opts, cb));
      await call();
      const afterFirst = reads;
      for (let i = 0; i < 20; i++) await call();
      router.close();
      // 21 calls on one connection: no read after the first call's.
      expect(reads).toBe(afterFirst);
      expect(seen).toEqual(Array.from({ length: 21 }, () => ({ kind: 'service', service: 'router' })));
      // Another connection, another identity: read again, and judged on its own.
      expect(await membership(createClient(Storage(), address, mtls(dir, 'connector'), 'storage'))).toBe('PERMISSION_DENIED');
      expect(reads).toBeGreaterThan(afterFirst);
      expect(seen).toHaveLength(21);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a certificate from another CA, one that names no Parley service, and no credential at all', async () => {
    seen.length = 0;
    // Another CA's "router": our server does not verify it, so it is nobody.
    const rogue = { ...mtls(rogueDir, 'router'), caFile: path.join(dir, 'ca.pem') };
    expect(await membership(createClient(Storage(), address, rogue, 'storage'))).toBe('UNAUTHENTICATED');
    expect(await membership(createClient(Storage(), address, mtls(dir, 'intruder'), 'storage'))).toBe('UNAUTHENTICATED');
    const caPem = readFileSync(path.join(dir, 'ca.pem'));
    expect(await membership(createApiClient(Storage(), address, { tls: { caPem, service: 'storage' } }))).toBe('UNAUTHENTICATED');
    // Plaintext to a TLS port gets nowhere.
    expect(await membership(createClient(Storage(), address, { mode: 'insecure' }, 'storage'))).toBe('UNAVAILABLE');
    expect(seen).toEqual([]);
  });

  it('takes an API key for the methods its scopes open, and never for a service-only method', async () => {
    seen.length = 0;
    const caPem = readFileSync(path.join(dir, 'ca.pem'));
    const withKey = (key: string) => createApiClient(Storage(), address, { tls: { caPem, service: 'storage' }, key });
    expect(await getConversation(withKey(team.bearer))).toBe('OK');
    expect(seen).toEqual([{ kind: 'key', ...teamKey }]);
    expect(await membership(withKey(team.bearer))).toBe('PERMISSION_DENIED');
    expect(await getConversation(withKey(newApiKey().bearer))).toBe('UNAUTHENTICATED');
    expect(await getConversation(withKey('not-a-key'))).toBe('UNAUTHENTICATED');
    expect(seen).toHaveLength(1);
  });

  it('will not talk to a server that is not the service it meant to call', async () => {
    // The client expects the router; the server's certificate says storage.
    const client = createClient(parleyGrpc().parley.v1.Router, address, mtls(dir, 'connector'), 'router');
    const code = await callUnary('Router.Signal', 3_000, (md, opts, cb) => client.signal({ senderId: 'a', senderDeviceId: 'd', conversationId: 'c', kind: 'typing', data: '' }, md, opts, cb)).then(
      () => 'OK',
      (err: ParleyError) => err.code,
    );
    client.close();
    expect(code).toBe('UNAVAILABLE');
    expect(serviceOfCertificate({ subjectaltname: 'URI:spiffe://parley/service/storage, DNS:localhost' })).toBe('storage');
    expect(serviceOfCertificate({ subjectaltname: 'URI:spiffe://parley/service/storage, URI:spiffe://parley/service/push' })).toBeUndefined();
    expect(serviceOfCertificate({ subjectaltname: 'URI:spiffe://parley/service/intruder' })).toBeUndefined();
  });
});
