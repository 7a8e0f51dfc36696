// Issue 11, finding 3 (Keel's half; test/security/proxy-trust.test.ts has HAProxy's): /metrics
// was public on the API server and on every role's health server, so it was safe only as
// long as the load balancer's rule held (and `/%6detrics` got past it). Keel now restricts
// it itself: client addresses in `metricsAllow` (behind a trusted proxy, the forwarded
// client address) and, when set, the bearer token `metricsToken`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startRoles, testOptions, type TestCluster } from '../support/cluster.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
const TOKEN = 'metrics-token-0123456789';
let t: TestDatabase;
const clusters: TestCluster[] = [];

/** An API copy with its health server; the test client is on loopback, and 127.0.0.1 is a trusted proxy. */
async function copy(extra: Record<string, unknown>): Promise<{ api: string; health: string }> {
  const c = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, healthPort: 0, apiDrainSec: 0, apiTrustProxy: '127.0.0.1', ...extra }), ['api']);
  clusters.push(c);
  return { api: `http://127.0.0.1:${c.roles[0]!.apiPort}`, health: `http://127.0.0.1:${c.roles[0]!.healthPort}` };
}

const status = async (url: string, headers: Record<string, string> = {}) => (await fetch(url, { headers })).status;

before(async () => {
  t = await freshDatabase();
});
after(async () => {
  for (const c of clusters) await c.stop();
  await t?.drop();
});

test('by default /metrics is served to loopback and private networks only, whatever the path encoding', async () => {
  const { api } = await copy({});
  assert.equal(await status(`${api}/metrics`), 200, 'loopback');
  assert.equal(await status(`${api}/metrics`, { 'x-forwarded-for': '10.1.2.3' }), 200, 'a private network behind the trusted proxy');
  for (const path of ['/metrics', '/%6detrics']) {
    const r = await fetch(`${api}${path}`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(r.status, 403, `${path} from an outside network`);
    assert.deepEqual(Object.keys(await r.json() as object).sort(), ['error', 'message', 'statusCode']);
  }
});

test('metricsAllow and metricsToken restrict the API server and the health server alike', async () => {
  const closed = await copy({ metricsAllow: '10.0.0.0/8' });
  for (const url of [`${closed.api}/metrics`, `${closed.health}/metrics`]) assert.equal(await status(url), 403, `${url} from loopback, outside metricsAllow`);
  assert.equal(await status(`${closed.health}/health/ready`), 200, 'the probes stay open');

  const withToken = await copy({ metricsToken: TOKEN });
  for (const url of [`${withToken.api}/metrics`, `${withToken.health}/metrics`]) {
    const none = await fetch(url);
    assert.equal(none.status, 401, `${url} without the token`);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.equal(await status(url, { authorization: 'Bearer wrong-token-0123456789' }), 401, `${url} with a wrong token`);
    assert.equal(await status(url, { authorization: `Bearer ${TOKEN}` }), 200, `${url} with the token`);
  }
});
