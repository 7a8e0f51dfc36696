// deploy/haproxy/haproxy.cfg for real: Debian's HAProxy terminates TLS (self-signed
// certificate made with openssl) in front of two `keel api` processes. A bounded request
// loop runs while one copy is stopped with SIGTERM (it drains: no request may fail) and
// while one is SIGKILLed; the test reports how many requests failed while HAProxy was
// detecting the kill, and asserts that none failed once it was marked down.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { createToken, createUser } from '../../src/auth/users.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { waitFor } from '../support/cluster.js';
import { startHaproxy, type TestHaproxy } from '../support/haproxy.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { freePort } from '../support/tools.js';

let t: TestDatabase;
let copies: KeelProcess[] = [];
let lb: TestHaproxy;
let token: string;
let ports: number[] = [];
const spawnCopy = (port: number) => spawnKeel(['api'], { KEEL_DATABASE_URL: t.url, KEEL_API_PORT: String(port), KEEL_API_TRUST_PROXY: 'loopback', KEEL_LOG_LEVEL: 'warn' });

interface Answer { status: number; copy: string | null; ms: number; error?: string }

function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: lb.https, path, servername: 'localhost', agent: lb.agent, headers: { authorization: `Bearer ${token}`, ...headers }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, copy: (res.headers['x-keel-copy'] as string | undefined) ?? null, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, copy: null, ms: Date.now() - started, error: err.message }));
    req.end();
  });
}

const serverStatus = (name: 'api1' | 'api2') => lb.serverStatus(name);

before(async () => {
  t = await freshDatabase();
  await createUser(t.db, 'ops', 'ops password', 'admin');
  token = (await createToken(t.db, 'ops', 'lb-test', null)).token;
  ports = [await freePort(), await freePort()];
  copies = ports.map(spawnCopy);
  for (const port of ports) {
    await waitFor(`api copy on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok, 30000, 200);
  }
  lb = await startHaproxy([`127.0.0.1:${ports[0]}`, `127.0.0.1:${ports[1]}`]);
});

after(async () => {
  lb?.stop();
  await killAll(copies);
  await t?.drop();
});

test('TLS termination, HTTP redirect, path routing and forwarded headers', async () => {
  const api = await get('/api/v1/dags');
  assert.equal(api.status, 200);
  const ui = await get('/');
  assert.equal(ui.status, 200);
  assert.equal((await get('/health/ready')).status, 200);
  const plain = await fetch(`http://127.0.0.1:${lb.http}/api/v1/dags`, { redirect: 'manual' });
  assert.equal(plain.status, 301);
  assert.match(plain.headers.get('location') ?? '', /^https:/);
  // Behind the proxy the session cookie is Secure, because the request came in over HTTPS.
  const login = await new Promise<string>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: lb.https, path: '/api/v1/auth/login', method: 'POST', servername: 'localhost', agent: lb.agent, headers: { 'content-type': 'application/json', host: 'keel.example' } }, (res) => {
      res.resume();
      resolve(String(res.headers['set-cookie'] ?? ''));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ username: 'ops', password: 'ops password' }));
  });
  assert.match(login, /Secure/);
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) seen.add((await get('/api/v1/health')).copy ?? '');
  assert.deepEqual([...seen].sort(), ['api1', 'api2'], 'round robin over both copies');
});

test('one copy stopped with SIGTERM drains: HAProxy takes it out before it closes, and no request fails', async () => {
  const answers: (Answer & { at: number })[] = [];
  const start = Date.now();
  let termAt = 0;
  let downAt = 0;
  let exitedAt = 0;
  const stopping = copies[1]!;
  void stopping.exited.then(() => { exitedAt = Date.now(); });
  const watcher = (async () => {
    while (!downAt && Date.now() - start < 20000) {
      if (termAt && /^(NOLB|DOWN)/.test(await serverStatus('api2'))) downAt = Date.now();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // 3 clients for 2 s before the SIGTERM and 8 s after (the drain is apiDrainSec, 3 s by default).
  const clients = Array.from({ length: 3 }, async () => {
    while (Date.now() - start < 10000) {
      if (!termAt && Date.now() - start > 2000) {
        termAt = Date.now();
        stopping.child.kill('SIGTERM');
      }
      const sentAt = Date.now();
      const a = await get('/api/v1/dags');
      answers.push({ ...a, at: sentAt });
      await new Promise((r) => setTimeout(r, 40));
    }
  });
  try {
    await Promise.all(clients);
    await watcher;
    assert.equal(await stopping.exited, 0, 'a clean exit');
  } finally {
    copies[1] = spawnCopy(ports[1]!);
  }
  const report = {
    requests: answers.length, detectionMs: downAt - termAt, closedMs: exitedAt - termAt,
    servedByStoppingCopyAfterSigterm: answers.filter((a) => a.at >= termAt && a.copy === 'api2').length,
    failed: answers.filter((a) => a.status !== 200).length,
    failureKinds: [...new Set(answers.filter((a) => a.status !== 200).map((a) => a.error ?? String(a.status)))],
  };
  console.log(`# HAProxy drain: ${JSON.stringify(report)}`);
  assert.ok(downAt > 0 && exitedAt > downAt, `marked down before it closed: ${JSON.stringify(report)}`);
  assert.equal(report.failed, 0, JSON.stringify(report));
  await waitFor('the restarted copy up in HAProxy', async () => (await serverStatus('api2')) === 'UP', 30000, 200);
});

test('one copy killed: failures only while HAProxy detects it, none after', async () => {
  const answers: (Answer & { at: number })[] = [];
  const start = Date.now();
  let killedAt = 0;
  let downAt = 0;
  const watcher = (async () => {
    while (!downAt) {
      if (killedAt && (await serverStatus('api1')).startsWith('DOWN')) downAt = Date.now();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // A bounded loop: 3 clients, each one request after another (under the proxy's per-address rate
  // limit of 1000 per 10 s), for 2 s before and 6 s after the kill.
  const clients = Array.from({ length: 3 }, async () => {
    while (Date.now() - start < 8000) {
      if (!killedAt && Date.now() - start > 2000) {
        killedAt = Date.now();
        copies[0]!.child.kill('SIGKILL');
      }
      // Classified by when the request was sent: one sent before HAProxy marked the copy
      // down may still fail after that moment.
      const sentAt = Date.now();
      const a = await get('/api/v1/dags');
      answers.push({ ...a, at: sentAt });
      await new Promise((r) => setTimeout(r, 40));
    }
  });
  await Promise.all(clients);
  await Promise.race([watcher, new Promise((r) => setTimeout(r, 5000))]);
  assert.ok(downAt > 0, 'HAProxy marked the killed copy down');
  const failed = (a: Answer) => a.status !== 200;
  // A request still in flight on the killed copy when it died fails with it: it counts as during detection.
  const before = answers.filter((a) => a.at + a.ms < killedAt);
  const during = answers.filter((a) => a.at + a.ms >= killedAt && a.at <= downAt);
  const afterDown = answers.filter((a) => a.at > downAt);
  const report = {
    requests: answers.length, beforeKill: before.length, failedBeforeKill: before.filter(failed).length,
    detectionMs: downAt - killedAt, duringDetection: during.length, failedDuringDetection: during.filter(failed).length,
    afterDetection: afterDown.length, failedAfterDetection: afterDown.filter(failed).length,
    failureKinds: [...new Set(answers.filter(failed).map((a) => a.error ?? String(a.status)))],
  };
  console.log(`# HAProxy failover: ${JSON.stringify(report)}`);
  assert.equal(report.failedBeforeKill, 0);
  assert.equal(report.failedAfterDetection, 0, JSON.stringify(report));
  assert.ok(report.afterDetection > 20, 'the loop went on after detection');
  assert.ok(afterDown.every((a) => a.copy === 'api2'), 'the survivor serves everything');
});
