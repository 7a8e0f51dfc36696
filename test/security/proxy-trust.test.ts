// Issue 11, finding 1 (and the HAProxy half of finding 3): behind the shipped HAProxy the
// login rate limit was bypassed: `apiTrustProxy=true` trusted every hop and HAProxy
// appended to a client-sent X-Forwarded-For, so 25 logins with a rotating
// `X-Forwarded-For: 203.0.113.N` all got 401 and the right password then logged in. Now the
// API trusts only the proxies' addresses, HAProxy drops what the client sent, and logins
// also back off per username, whatever the address. HAProxy's /metrics rule matched the
// raw path, so `/%6detrics` answered 200: it matches the decoded path now.
//
// The TLS frontend listens on ::1, outside HAProxy's /metrics allow-list (IPv4 loopback
// and private networks), so the test is a client from an outside network.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { createUser } from '../../src/auth/users.js';
import { loadOptions } from '../../src/config/load.js';
import { ApiClient } from '../support/api.js';
import { startRoles, testOptions, type TestCluster } from '../support/cluster.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startHaproxy, type TestHaproxy } from '../support/haproxy.js';
import { freePort } from '../support/tools.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
const LOGIN_LIMIT = 10;
let t: TestDatabase;
let cluster: TestCluster;
let lb: TestHaproxy;
let direct: string;

interface Answer { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function viaLb(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: lb.host, port: lb.https, method, path, servername: 'localhost', agent: lb.agent, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

before(async () => {
  t = await freshDatabase();
  const port = await freePort();
  // HAProxy reaches the copy from 127.0.0.1: that is the one proxy address it trusts.
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: port, apiDrainSec: 0, apiTrustProxy: '127.0.0.1', apiLoginRateLimit: LOGIN_LIMIT }), ['api']);
  direct = `http://127.0.0.1:${port}`;
  await createUser(t.db, 'ada', 'correct horse', 'admin');
  lb = await startHaproxy([`127.0.0.1:${port}`, `127.0.0.1:${port}`], { host: '::1' });
});
after(async () => {
  lb?.stop();
  await cluster?.stop();
  await t?.drop();
});

test('behind the shipped HAProxy, a rotating X-Forwarded-For does not escape the login rate limit', async () => {
  const statuses: number[] = [];
  // Other usernames each time, so that only the per-address limit is at work here.
  for (let i = 1; i <= 25; i++) statuses.push((await viaLb('POST', '/api/v1/auth/login', { 'x-forwarded-for': `203.0.113.${i}` }, { username: `nobody${i}`, password: 'guess' })).status);
  assert.deepEqual(statuses, [...Array(LOGIN_LIMIT).fill(401), ...Array(25 - LOGIN_LIMIT).fill(429)]);
  const right = await viaLb('POST', '/api/v1/auth/login', { 'x-forwarded-for': '203.0.113.99' }, { username: 'ada', password: 'correct horse' });
  assert.equal(right.status, 429, 'the real address is limited, whatever it claims');
  const keys = (await t.db.query<{ key: string }>(`SELECT key FROM rate_limit WHERE key LIKE 'login:%'`)).rows.map((r) => r.key);
  assert.deepEqual(keys, ['login:::1'], 'the copy saw the address HAProxy saw, and no client-sent one');
});

test('apiTrustProxy takes proxy addresses only: true and hop counts would trust what clients send', () => {
  const load = (value: string) => loadOptions({ env: { KEEL_API_TRUST_PROXY: value }, noConfigFile: true });
  assert.throws(() => load('true'), /not true or a hop count/);
  assert.throws(() => load('2'), /not true or a hop count/);
  assert.throws(() => load('10.0.0.0/33'), /not an IP address, a CIDR range/);
  assert.deepEqual(load('10.0.0.5, 192.168.0.0/16, loopback').apiTrustProxy, ['10.0.0.5/32', '192.168.0.0/16', '127.0.0.0/8', '::1/128']);
  assert.equal(load('false').apiTrustProxy, false);
});

test('logins of one username back off, from whichever address they come', async () => {
  await t.db.query('DELETE FROM rate_limit');
  // Directly from the trusted proxy address: each login as if from another client.
  const from = (n: number) => ({ 'x-forwarded-for': `198.51.100.${n}` });
  for (let i = 1; i <= 5; i++) assert.equal((await new ApiClient(direct).req('POST', '/api/v1/auth/login', { username: 'ada', password: `guess ${i}` }, from(i))).status, 401);
  const waiting = await new ApiClient(direct).req('POST', '/api/v1/auth/login', { username: 'ada', password: 'correct horse' }, from(6));
  assert.equal(waiting.status, 429, 'even the right password waits');
  const wait = Number(waiting.headers.get('retry-after'));
  assert.ok(wait >= 1, `Retry-After: ${wait}`);
  assert.match(waiting.body.message, /try again in \d+ s/);
  await new Promise((r) => setTimeout(r, wait * 1000 + 200));
  assert.equal((await new ApiClient(direct).login('ada', 'correct horse')).status, 200, 'after the wait');
  assert.equal((await t.db.query('SELECT 1 FROM login_attempt WHERE username = $1', ['ada'])).rowCount, 0, 'a successful login resets the count');
});

test('HAProxy denies /metrics to outside networks also when the path is percent-encoded', async () => {
  for (const path of ['/metrics', '/%6detrics', '/%6D%65%74rics', '/metrics%3Fx']) {
    const r = await viaLb('GET', path);
    assert.equal(r.status, 403, `${path}: ${r.status} ${r.body.slice(0, 80)}`);
  }
  assert.equal((await viaLb('GET', '/health/live')).status, 200, 'the rest of /health is served');
});
