// The HTTP/JSON form of the API (Connect unary, docs/API.md), against a platform with mutual
// TLS and API keys: `curl` creates a key, a conversation and a message that reaches a member's
// socket; every refusal is the gRPC one (same authentication, same scopes), in Connect's error
// shape and HTTP status; bad bodies get a typed error naming the field.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parleyGrpc } from '@parley/proto';
import { TestClient } from './support/client';
import { Platform } from './support/platform';

jest.setTimeout(180_000);

let platform: Platform;
const clients: TestClient[] = [];
const run = promisify(execFile);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: () => Record<string, unknown>;
}

/** One request with node's https client, trusting the platform's CA. */
function post(service: 'storage' | 'router', method: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(`${platform.apiHttpUrl(service)}/parley.v1.${method}`);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca: readFileSync(path.join(platform.pkiDir, 'ca.pem')), headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json: () => JSON.parse(buf.toString('utf8')) as Record<string, unknown> });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** The way the README shows it: curl with the CA file and a bearer. */
async function curl(service: 'storage' | 'router', method: string, key: string, body: object): Promise<Record<string, unknown>> {
  const { stdout } = await run('curl', [
    '--silent', '--show-error', '--fail-with-body', '--max-time', '20',
    '--cacert', path.join(platform.pkiDir, 'ca.pem'),
    '-H', `authorization: Bearer ${key}`, '-H', 'content-type: application/json',
    '--data', JSON.stringify(body),
    `${platform.apiHttpUrl(service)}/parley.v1.${method}`,
  ]);
  return JSON.parse(stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  platform = await new Platform({ partitions: 2 }).start();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await platform?.stop();
});

describe('the HTTP/JSON API', () => {
  it('curl creates a key, a group and a message that a member receives on its socket', async () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const created = await curl('storage', 'Keys/CreateKey', platform.adminKey, { name: 'http test backend', scopes: ['conversations:admin', 'messages:send-as'] });
    const key = created['bearer'] as string;
    expect(key).toMatch(/^pk_[a-z0-9]{16}_/);
    expect((created['key'] as Record<string, unknown>)['scopes']).toEqual(['conversations:admin', 'messages:send-as']);

    // snake_case field names are accepted as well as lowerCamelCase (the JSON mapping allows both).
    const group = await curl('storage', 'Storage/CreateGroup', key, { member_ids: [alice, bob] });
    const conversationId = group['conversationId'] as string;
    expect(conversationId).toMatch(/^g_/);
    expect(group['memberCount']).toBe('2'); // 64-bit integers are JSON strings, as the mapping says

    const bobPhone = await TestClient.connect(platform.wsUrl, platform.token(bob, 'phone'), bob, 'phone');
    clients.push(bobPhone);
    const sent = await curl('router', 'Router/Send', key, { senderId: alice, senderDeviceId: 'backend', conversationId, clientMsgId: 'c-1', body: 'hello over HTTP' });
    expect(sent['serverMsgId']).toEqual(expect.any(String));
    await bobPhone.waitFor(() => bobPhone.messages(conversationId).some((m) => m.body === 'hello over HTTP' && m.senderId === alice));

    // The same call again is a resend: same id, delivered once.
    const again = await curl('router', 'Router/Send', key, { senderId: alice, senderDeviceId: 'backend', conversationId, clientMsgId: 'c-1', body: 'hello over HTTP' });
    expect(again['serverMsgId']).toBe(sent['serverMsgId']);
    await curl('router', 'Router/Send', key, { senderId: alice, senderDeviceId: 'backend', conversationId, clientMsgId: 'c-2', body: 'barrier' });
    await bobPhone.waitFor(() => bobPhone.messages(conversationId).some((m) => m.body === 'barrier'));
    expect(bobPhone.messages(conversationId).filter((m) => m.body === 'hello over HTTP')).toHaveLength(1);

    // Binary protobuf bodies work too (application/proto), for Connect clients that prefer them.
    const getConversation = parleyGrpc().parley.v1.Storage.service.GetConversation;
    const binary = await post('storage', 'Storage/GetConversation', getConversation.requestSerialize({ conversationId }), { ...bearer(key), 'content-type': 'application/proto' });
    expect(binary.status).toBe(200);
    expect(binary.headers['content-type']).toBe('application/proto');
    expect((getConversation.responseDeserialize(binary.body) as { conversationId: string; memberCount: number }).memberCount).toBe(2);
  });

  it('refuses what the gRPC form refuses, with Connect codes and HTTP statuses', async () => {
    const reader = (await post('storage', 'Keys/CreateKey', JSON.stringify({ name: 'reader', scopes: ['conversations:read'] }), bearer(platform.adminKey))).json();
    const readKey = reader['bearer'] as string;
    const cases: Array<[string, Promise<Answer>, number, string]> = [
      ['no credential', post('storage', 'Storage/CreateGroup', '{"memberIds":["a","b"]}'), 401, 'unauthenticated'],
      ['a made-up key', post('storage', 'Storage/CreateGroup', '{"memberIds":["a","b"]}', bearer(`pk_${'a'.repeat(16)}_${'b'.repeat(43)}`)), 401, 'unauthenticated'],
      ['a key without the scope', post('storage', 'Storage/CreateGroup', '{"memberIds":["a","b"]}', bearer(readKey)), 403, 'permission_denied'],
      ['send-as without messages:send-as', post('router', 'Router/Send', '{"senderId":"a"}', bearer(readKey)), 403, 'permission_denied'],
      ['a method for Parley services only', post('storage', 'Storage/Membership', '{"conversationId":"g_x","userId":"a"}', bearer(platform.adminKey)), 403, 'permission_denied'],
      ['Keys.VerifyKey (router only)', post('storage', 'Keys/VerifyKey', `{"bearer":"${readKey}"}`, bearer(platform.adminKey)), 403, 'permission_denied'],
      ['not JSON', post('storage', 'Storage/CreateGroup', '{"memberIds":', bearer(platform.adminKey)), 400, 'invalid_argument'],
      ['an unknown field', post('storage', 'Storage/CreateGroup', '{"memberIdz":["a","b"]}', bearer(platform.adminKey)), 400, 'invalid_argument'],
      ['a number where a string belongs', post('storage', 'Storage/GetConversation', '{"conversationId":7}', bearer(platform.adminKey)), 400, 'invalid_argument'],
      ['a fraction in an integer', post('storage', 'Keys/ListKeys', '{"limit":1.5}', bearer(platform.adminKey)), 400, 'invalid_argument'],
      ['a bad connect-timeout-ms', post('storage', 'Keys/ListKeys', '{}', { ...bearer(platform.adminKey), 'connect-timeout-ms': 'soon' }), 400, 'invalid_argument'],
      ['an unknown method', post('storage', 'Storage/DropEverything', '{}', bearer(platform.adminKey)), 501, 'unimplemented'],
      ['a body over the limit', post('storage', 'Storage/CreateGroup', `{"memberIds":["${'x'.repeat(9 * 1024 * 1024)}"]}`, bearer(platform.adminKey)), 429, 'resource_exhausted'],
    ];
    for (const [what, answer, status, code] of cases) {
      const a = await answer;
      expect({ what, status: a.status, code: a.json()['code'] }).toEqual({ what, status, code });
      expect(typeof a.json()['message']).toBe('string');
    }
    const unknownField = await post('storage', 'Storage/CreateGroup', '{"memberIdz":["a","b"]}', bearer(platform.adminKey));
    expect(unknownField.json()['message']).toContain('memberIdz');
    // Parley's trailers ride along as headers: a client can tell a retryable error without parsing.
    const denied = await post('storage', 'Storage/CreateGroup', '{"memberIds":["a","b"]}', bearer(readKey));
    expect(denied.headers['parley-error-code']).toBe('PERMISSION_DENIED');
    expect(denied.headers['parley-retryable']).toBe('false');
    // A content type it does not speak: 415 with what it takes.
    const text = await post('storage', 'Keys/ListKeys', '{}', { ...bearer(platform.adminKey), 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.headers['accept']).toContain('application/json');
  });

  it('answers an application error as gRPC would, and a revoked key stops working here too', async () => {
    const created = (await post('storage', 'Keys/CreateKey', JSON.stringify({ name: 'short-lived', scopes: ['conversations:read'] }), bearer(platform.adminKey))).json();
    const key = created['bearer'] as string;
    const keyId = (created['key'] as Record<string, string>)['keyId']!;
    const missing = await post('storage', 'Storage/GetConversation', '{"conversationId":"g_nothing_here"}', bearer(key));
    expect([missing.status, missing.json()['code']]).toEqual([404, 'not_found']);
    const revoked = await post('storage', 'Keys/RevokeKey', JSON.stringify({ keyId }), bearer(platform.adminKey));
    expect(revoked.status).toBe(200);
    expect(Number(revoked.json()['revokedAt'])).toBeGreaterThan(0);
    // In force within API_KEY_CACHE_MS (2 s by default): poll, bounded.
    let status = 0;
    for (let i = 0; i < 50 && status !== 401; i++) {
      status = (await post('storage', 'Storage/GetConversation', '{"conversationId":"g_nothing_here"}', bearer(key))).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(401);
  });
});
