// Client idempotency keys on manual triggers, through the REST API (`Idempotency-Key`
// header) and the CLI (`--idempotency-key`), on a real database: a repeat returns the run
// the first request made and stores nothing; other input under the same key is a 409;
// keys are scoped per DAG; a malformed key is a 400 naming the header and writes nothing;
// triggerDag calls racing with one trigger key make one run, and say which one made it.
// No scheduler or worker: the runs only have to exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { triggerKeyFor } from '../../src/runs/idempotency-key.js';
import { triggerDag, type TriggeredRun } from '../../src/runs/manual-run.js';
import { useApiCluster, type ApiResponse } from '../support/api.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DAGS = fileURLToPath(new URL('../fixtures/api/', import.meta.url));
const RUNS = '/api/v1/dags/api_dag/runs';
const api = useApiCluster(DAGS, ['api_dag', 'api_slow'], {}, ['dag-processor', 'api']);

const runs = async () => (await api.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dag_run')).rows[0]!.n;
const trigger = (path: string, key: string | undefined, body: unknown = {}): Promise<ApiResponse> =>
  api.admin.req('POST', path, body, key === undefined ? {} : { 'idempotency-key': key });

test('the same key twice: one run; the repeat answers 200 with the same run', async () => {
  const before = await runs();
  const first = await trigger(RUNS, 'order-1', { params: { n: 3 } });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const again = await trigger(RUNS, 'order-1', { params: { n: 3 } });
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.deepEqual(again.body, first.body);
  assert.equal(await runs(), before + 1);
  const stored = await api.t.db.query('SELECT id, trigger_key FROM dag_run WHERE trigger_key = $1', [triggerKeyFor('api_dag', 'order-1')]);
  assert.deepEqual(stored.rows.map((r) => r.id), [first.body.id]);
  // Asking for the same thing in other words is the same request: the defaults spelled out.
  const spelled = await trigger(RUNS, 'order-1', { params: { n: 3, who: 'world' } });
  assert.equal(spelled.status, 200, JSON.stringify(spelled.body));
  assert.equal(spelled.body.id, first.body.id);
  // Without a key, every trigger is a new run, as before.
  assert.equal((await trigger(RUNS, undefined)).status, 201);
  assert.equal((await trigger(RUNS, undefined)).status, 201);
  assert.equal(await runs(), before + 3);
});

test('different keys: two runs; the same key on two DAGs: two runs', async () => {
  const before = await runs();
  const a = await trigger(RUNS, 'key-a');
  const b = await trigger(RUNS, 'key-b');
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.notEqual(a.body.id, b.body.id);
  const slow = await trigger('/api/v1/dags/api_slow/runs', 'key-a');
  assert.equal(slow.status, 201, JSON.stringify(slow.body));
  assert.equal(slow.body.dagId, 'api_slow');
  assert.notEqual(slow.body.id, a.body.id);
  assert.equal((await trigger('/api/v1/dags/api_slow/runs', 'key-a')).body.id, slow.body.id);
  assert.equal((await trigger(RUNS, 'key-a')).body.id, a.body.id);
  assert.equal(await runs(), before + 3);
});

test('the same key with other params, logicalDate or runName: 409 naming the header, nothing stored', async () => {
  const first = await trigger(RUNS, 'conflict-1', { params: { n: 5 }, logicalDate: '2026-03-01T00:00:00Z', runName: 'idem_conflict_1' });
  assert.equal(first.status, 201, JSON.stringify(first.body));
  const before = await runs();
  const cases: unknown[] = [
    { params: { n: 6 }, logicalDate: '2026-03-01T00:00:00Z', runName: 'idem_conflict_1' },
    { params: { n: 5, who: 'Ada' } },
    {}, // the defaults (n: 1) are other params than n: 5
    { params: { n: 5 }, logicalDate: '2026-03-02T00:00:00Z' },
    { params: { n: 5 }, runName: 'idem_conflict_2' },
  ];
  for (const body of cases) {
    const r = await trigger(RUNS, 'conflict-1', body);
    assert.equal(r.status, 409, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, 'headers.idempotency-key');
    assert.match(r.body.message, /^headers\.idempotency-key: "conflict-1" was already used for run \d+ \(idem_conflict_1\) of DAG "api_dag"/);
    assert.match(r.body.message, /new key/);
  }
  assert.match((await trigger(RUNS, 'conflict-1', { params: { n: 6 } })).body.message, /its params are \{"n":5,"who":"world"\}, this request's \{"n":6,"who":"world"\}/);
  // Invalid input is still invalid input, key or not.
  const invalid = await trigger(RUNS, 'conflict-1', { params: { n: -1 } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.field, 'body.params.n');
  assert.equal(await runs(), before);
  // Asking for exactly the same, with or without logicalDate and runName, is a repeat.
  assert.equal((await trigger(RUNS, 'conflict-1', { params: { n: 5 }, logicalDate: '2026-03-01T01:00:00+01:00' })).status, 200);
  assert.equal((await trigger(RUNS, 'conflict-1', { params: { n: 5 }, runName: 'idem_conflict_1' })).body.id, first.body.id);
});

test('a malformed key: 400 naming the header and the rule, nothing stored; an unknown DAG is still 404', async () => {
  const before = await runs();
  for (const key of ['', 'x'.repeat(256), 'a\tb', 'clé']) {
    const r = await trigger(RUNS, key);
    assert.equal(r.status, 400, `${JSON.stringify(key)} → ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.field, 'headers.idempotency-key');
    assert.match(r.body.message, /^headers\.idempotency-key: must be 1 to 255 printable ASCII characters/);
  }
  assert.equal((await trigger(RUNS, 'x'.repeat(255))).status, 201);
  assert.equal(await runs(), before + 1);
  const unknown = await trigger('/api/v1/dags/nope/runs', 'order-1');
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.message, /unknown DAG id "nope"/);
  assert.equal(await runs(), before + 1);
});

test('repeats at the same moment: one run, and every answer is that run', async () => {
  const before = await runs();
  for (const body of [{}, { logicalDate: '2026-04-01T00:00:00Z' }]) {
    const key = `race-${JSON.stringify(body)}`;
    const answers = await Promise.all(Array.from({ length: 6 }, () => trigger(RUNS, key, body)));
    // Exactly one 201: the request that made the run. Every other one says 200, also one
    // that found no run at first and met the first's key on inserting.
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201], JSON.stringify(answers.map((r) => r.body)));
    assert.equal(new Set(answers.map((r) => r.body.id)).size, 1);
  }
  // Racing repeats that ask for other params: each gets the run only if it asked for it.
  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => trigger(RUNS, 'race-params', { params: { n: i % 2 } })));
  const made = answers.filter((r) => r.status !== 409);
  assert.ok(made.every((r) => r.status === 200 || r.status === 201), JSON.stringify(answers.map((r) => [r.status, r.body])));
  assert.equal(made.filter((r) => r.status === 201).length, 1, JSON.stringify(answers.map((r) => [r.status, r.body])));
  assert.equal(new Set(made.map((r) => r.body.id)).size, 1);
  answers.forEach((r, i) => assert.equal(r.status === 409, made[0]!.body.params.n !== i % 2, `answer ${i}: ${r.status}`));
  assert.equal(await runs(), before + 3);
});

test('triggerDag twice with one trigger key, truly at once: one run, one created: true, one created: false, no error', async () => {
  // A transaction holds the DAG's row lock (as a trigger does until it commits) while both
  // calls start: both look the key up, find no run and wait for the lock. Then the first to
  // get it makes the run and commits; the second's insert meets that run's key.
  const blocker = new pg.Client({ connectionString: api.t.url });
  await blocker.connect();
  try {
    for (const logicalDate of [undefined, new Date('2026-05-01T00:00:00Z')]) {
      const before = await runs();
      const triggerKey = randomUUID();
      await blocker.query('BEGIN');
      await blocker.query("SELECT 1 FROM dag WHERE dag_id = 'api_dag' FOR UPDATE");
      const calls = [1, 2].map(() => triggerDag(api.t.db, 'api_dag', { params: { n: 4 }, logicalDate, triggerKey }).then((run) => run, (err: unknown) => err));
      // Both past their first look-up, waiting for the lock (the DAG processor may wait too).
      for (let waiting = 0, deadline = Date.now() + 15_000; waiting < 2; await sleep(20)) {
        assert.ok(Date.now() < deadline, `${waiting} of 2 calls wait for the DAG's lock after 15 s`);
        waiting = (await api.t.db.query<{ n: number }>(
          // Waiting for the blocker, or for the other call that waits for it (its tuple lock).
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'keel-test' AND wait_event_type = 'Lock' AND query LIKE '%FROM dag WHERE dag_id = $1 FOR UPDATE%'",
        )).rows[0]!.n;
      }
      await blocker.query('COMMIT');
      const [a, b] = await Promise.all(calls);
      for (const r of [a, b]) assert.ok(!(r instanceof Error), `a call failed: ${String(r)}`);
      const [x, y] = [a as TriggeredRun, b as TriggeredRun];
      assert.equal(x.id, y.id);
      assert.deepEqual([x.created, y.created].sort(), [false, true]);
      assert.deepEqual(x.params, { n: 4, who: 'world' });
      if (logicalDate) assert.equal(new Date(x.logicalDate).getTime(), logicalDate.getTime());
      assert.equal(await runs(), before + 1);
      // And a later call with the key finds it too, not made here.
      const later = await triggerDag(api.t.db, 'api_dag', { triggerKey });
      assert.equal(later.id, x.id);
      assert.equal(later.created, false);
    }
  } finally {
    await blocker.query('ROLLBACK').catch(() => undefined);
    await blocker.end();
  }
});

test('the OpenAPI document describes the header', async () => {
  const doc = (await api.admin.req('GET', '/api/v1/openapi.json')).body;
  const header = doc.paths['/api/v1/dags/{dagId}/runs'].post.parameters.find((p: { in: string; name: string }) => p.in === 'header' && p.name === 'idempotency-key');
  assert.ok(header, 'Idempotency-Key is a header parameter');
  assert.equal(header.required, false);
  assert.equal(header.schema.maxLength, 255);
  assert.match(header.description, /returns the same run/);
});

test('CLI: --idempotency-key maps like the header; a conflict or a malformed key exits 2 naming the flag', async () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEEL_')) env[k] = v;
  Object.assign(env, { KEEL_DATABASE_URL: api.t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_LOG_FORMAT: 'json' });
  const keel = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/keel.js', ...args], { cwd: ROOT, env, timeout: 40000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const before = await runs();
  const first = await keel(['dags', 'trigger', 'api_dag', '--idempotency-key', 'cli-1', '--params', '{"n": 2}', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const run = JSON.parse(first.stdout) as { id: string };
  const again = await keel(['dags', 'trigger', 'api_dag', '--idempotency-key', 'cli-1', '--params', '{"n": 2}']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`run ${run.id} .* had been triggered with this idempotency key already`));
  // The API finds the CLI's run by the same key: one mapping.
  const viaApi = await trigger(RUNS, 'cli-1', { params: { n: 2 } });
  assert.equal(viaApi.status, 200);
  assert.equal(viaApi.body.id, run.id);
  const clash = await keel(['dags', 'trigger', 'api_dag', '--idempotency-key', 'cli-1', '--params', '{"n": 9}']);
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /--idempotency-key: "cli-1" was already used for run/);
  const bad = await keel(['dags', 'trigger', 'api_dag', '--idempotency-key', '']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--idempotency-key: must be 1 to 255 printable ASCII characters/);
  assert.equal(await runs(), before + 1);
});
