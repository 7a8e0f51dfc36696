// External events and triggers through the REST API, on a real cluster with a triggerer:
// a posted event resumes a deferred sensor (once, whatever the retries), the triggers list
// shows what a deferred task waits on and who holds it, malformed posts write nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { ApiClient, useApiCluster } from '../support/api.js';
import { waitFor, waitForRunEnd } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/deferral/', import.meta.url));
const api = useApiCluster(DAGS, ['df_external'], { triggererPollMs: 200 }, ['dag-processor', 'scheduler', 'worker', 'triggerer', 'api']);
const events = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM external_event')).rows[0]!.n;

test('malformed events: 400 naming the field, nothing written', async () => {
  const cases: [unknown, string][] = [
    [{}, 'body.key'],
    [{ key: 42 }, 'body.key'],
    [{ key: '' }, 'body.key'],
    [{ key: 'k'.repeat(401) }, 'body.key'],
    [{ key: 'ok', eventId: '' }, 'body.eventId'],
    [{ key: 'ok', eventId: 7 }, 'body.eventId'],
    [{ key: 'ok', colour: 'red' }, 'body.colour'],
    ['{"key": ', 'body'],
  ];
  for (const [body, field] of cases) {
    const r = await api.admin.req('POST', '/api/v1/events', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)} → 400`);
    assert.equal(r.body.field, field, `${JSON.stringify(body)} names ${field}`);
    assert.ok(r.body.message.startsWith(field), r.body.message);
  }
  const q = await api.admin.req('GET', '/api/v1/triggers?state=sleeping');
  assert.equal(q.status, 400);
  assert.equal(q.body.field, 'querystring.state');
  assert.equal(await events(), 0);
});

test('events need an op with the CSRF token (or an API token); viewers cannot post', async () => {
  const noCsrf = await api.admin.req('POST', '/api/v1/events', { key: 'csrf' }, { 'x-csrf-token': 'wrong' });
  assert.equal(noCsrf.status, 403);
  const anonymous = await new ApiClient(api.base).req('POST', '/api/v1/events', { key: 'anon' });
  assert.equal(anonymous.status, 401);
  const viewer = new ApiClient(api.base);
  assert.equal((await viewer.login('vic', 'viewer password')).status, 200);
  assert.equal((await viewer.req('POST', '/api/v1/events', { key: 'viewer' })).status, 403);
  assert.equal((await viewer.req('GET', '/api/v1/triggers')).status, 200, 'viewers may read triggers');
  assert.equal(await events(), 0);
});

test('a posted event resumes a deferred sensor once; the triggers list and the task show what it waited on', async () => {
  const key = `api-approve-${Date.now()}`;
  const run = await triggerDag(api.t.db, 'df_external', { params: { key } });
  const waiting = await waitFor('the sensor\'s trigger to be held by the triggerer', async () => {
    const r = await api.admin.req('GET', `/api/v1/triggers?state=waiting&runId=${run.id}`);
    return r.body.triggers?.[0]?.holderId ? r.body : null;
  });
  assert.equal(waiting.total, 1);
  const trig = waiting.triggers[0];
  assert.equal(trig.kind, 'external');
  assert.equal(trig.description, `external event "${key}"`);
  assert.equal(trig.dagId, 'df_external');
  assert.equal(trig.runId, run.id);
  assert.equal(trig.runName, run.runId);
  assert.equal(trig.taskId, 'approval');
  assert.equal(trig.holderCount, 1);
  assert.ok(trig.holderHostname && trig.holderPid, 'the holder is named');
  assert.equal(trig.spec, undefined, 'the raw spec is not listed');
  const task = await api.admin.req('GET', `/api/v1/runs/${run.id}/tasks/approval`);
  assert.equal(task.body.state, 'deferred');
  assert.equal(task.body.trigger.id, trig.id);
  assert.equal(task.body.trigger.description, trig.description);

  const eventId = `api-evt-${key}`;
  const first = await api.admin.req('POST', '/api/v1/events', { key, payload: { approvedBy: 'ada' }, eventId });
  assert.equal(first.status, 201);
  assert.equal(first.body.created, true);
  assert.equal(first.body.eventId, eventId);
  const again = await api.admin.req('POST', '/api/v1/events', { key, payload: { approvedBy: 'mallory' }, eventId });
  assert.equal(again.status, 200);
  assert.equal(again.body.created, false);
  assert.equal(again.body.id, first.body.id);
  assert.equal(await waitForRunEnd(api.t.db, run.id), 'success');
  const done = await api.admin.req('GET', `/api/v1/runs/${run.id}/tasks/approval`);
  assert.deepEqual(done.body.result.payload, { approvedBy: 'ada' });
  assert.deepEqual(done.body.attempts.map((a: { state: string }) => a.state), ['deferred', 'success']);
  assert.equal(done.body.trigger.state, 'fired');
  assert.ok(done.body.trigger.firedAt);
  const fired = await api.admin.req('GET', '/api/v1/triggers?state=fired');
  assert.ok(fired.body.triggers.some((x: { id: string }) => x.id === trig.id));
  // A token-authenticated client needs no CSRF token; an event without an id gets a new one.
  const tokenClient = new ApiClient(api.base);
  tokenClient.token = (await api.admin.req('POST', '/api/v1/auth/tokens', { name: 'events' })).body.token;
  const byToken = await tokenClient.req('POST', '/api/v1/events', { key: `${key}-later` });
  assert.equal(byToken.status, 201);
  assert.match(byToken.body.eventId, /^[0-9a-f-]{36}$/);
  assert.equal(await events(), 2);
});

test('triggers: pagination and the total', async () => {
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await triggerDag(api.t.db, 'df_external', { params: { key: `page-${i}-${Date.now()}` } }));
  await waitFor('three waiting triggers', async () => (await api.admin.req('GET', '/api/v1/triggers?state=waiting')).body.total === 3);
  const page1 = await api.admin.req('GET', '/api/v1/triggers?state=waiting&limit=2');
  const page2 = await api.admin.req('GET', '/api/v1/triggers?state=waiting&limit=2&offset=2');
  assert.equal(page1.body.triggers.length, 2);
  assert.equal(page2.body.triggers.length, 1);
  assert.equal(page2.body.total, 3);
  const ids = [...page1.body.triggers, ...page2.body.triggers].map((x: { id: string }) => Number(x.id));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  for (const r of runs) await api.admin.req('POST', '/api/v1/events', { key: r.params.key });
  for (const r of runs) assert.equal(await waitForRunEnd(api.t.db, r.id), 'success');
});

test('OpenAPI lists the events and triggers endpoints', async () => {
  const r = await new ApiClient(api.base).req('GET', '/api/v1/openapi.json');
  assert.ok(r.body.paths['/api/v1/events']?.post);
  assert.ok(r.body.paths['/api/v1/triggers']?.get);
});
