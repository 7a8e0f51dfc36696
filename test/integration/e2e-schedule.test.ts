// Scheduling end to end: catch-up creates one run per missed interval (and without catch-up
// only the latest), max_active_runs keeps runs apart, manual triggers validate their params
// and DAG id before writing anything, and a paused DAG's runs wait until it is unpaused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../src/errors.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { taskStates, useCluster, waitFor, waitForRunEnd } from '../support/cluster.js';
import { overlaps } from '../support/intervals.js';
import { afterLoopTurns } from '../support/turns.js';

const DAGS = fileURLToPath(new URL('../fixtures/schedule/', import.meta.url));
const HOUR = 3_600_000;
const t = useCluster(DAGS, ['sc_catchup', 'sc_no_catchup', 'sc_one_run', 'sc_params', 'sc_pausable'], { healthPort: 0 });

/** Waits for several whole turns of the scheduler (as many as 1.5 s gives at its 200 ms loop): whatever it would still do, it has done. */
const schedulerTurns = () => afterLoopTurns(t.cluster.role('scheduler').healthPort!, 7);

async function runsOf(dagId: string) {
  return (await t.db.query<{ id: string; logical_date: Date; data_interval_end: Date; run_type: string; state: string }>(
    'SELECT id, logical_date, data_interval_end, run_type, state FROM dag_run WHERE dag_id = $1 ORDER BY logical_date', [dagId],
  )).rows;
}

async function counts(): Promise<{ runs: number; tis: number }> {
  const r = await t.db.query<{ runs: number; tis: number }>('SELECT (SELECT count(*)::int FROM dag_run) AS runs, (SELECT count(*)::int FROM task_instance) AS tis');
  return r.rows[0]!;
}

/** Whole hours since the DAG's start date, by the database clock: the complete hourly intervals. */
async function completeIntervals(dagId: string): Promise<{ start: Date; n: number }> {
  const r = await t.db.query<{ start: string; now: Date }>(`SELECT serialized ->> 'startDate' AS start, now() FROM dag WHERE dag_id = $1`, [dagId]);
  const start = new Date(r.rows[0]!.start);
  return { start, n: Math.floor((r.rows[0]!.now.getTime() - start.getTime()) / HOUR) };
}

test('catchup true creates one scheduled run per missed hourly interval, each once', async () => {
  const { start } = await completeIntervals('sc_catchup');
  assert.equal(start.getTime() % HOUR, 0);
  // Normally 4; 5 if the clock passed a whole hour since the file was parsed.
  const runs = await waitFor('one run per complete interval', async () => {
    const { n } = await completeIntervals('sc_catchup');
    const rows = await runsOf('sc_catchup');
    return rows.length === n && rows.every((r) => r.state === 'success') ? rows : null;
  }, 30000);
  assert.ok(runs.length >= 4, `at least 4 runs, got ${runs.length}`);
  assert.deepEqual(runs.map((r) => r.logical_date.getTime() - start.getTime()), runs.map((_r, k) => k * HOUR), 'logical dates: start, start+1h, ...');
  for (const r of runs) {
    assert.equal(r.run_type, 'scheduled');
    assert.equal(r.data_interval_end.getTime() - r.logical_date.getTime(), HOUR);
  }
  // Each run saw its own logical date.
  const results = await t.db.query<{ result: string }>(`SELECT ti.result FROM task_instance ti JOIN dag_run r ON r.id = ti.dag_run_id WHERE r.dag_id = 'sc_catchup' ORDER BY r.logical_date`);
  assert.deepEqual(results.rows.map((x) => x.result), runs.map((r) => r.logical_date.toISOString()));
  // Nothing more is created while no further interval completes.
  await schedulerTurns();
  const { n } = await completeIntervals('sc_catchup');
  assert.equal((await runsOf('sc_catchup')).length, n);
  const next = await t.db.query<{ next_dagrun_at: Date }>(`SELECT next_dagrun_at FROM dag WHERE dag_id = 'sc_catchup'`);
  assert.equal(next.rows[0]!.next_dagrun_at.getTime(), start.getTime() + (n + 1) * HOUR, 'next run due when the next hour ends');
});

test('catchup false creates only the latest complete interval', async () => {
  const runs = await waitFor('the latest run to finish', async () => {
    const rows = await runsOf('sc_no_catchup');
    return rows.length > 0 && rows.every((r) => r.state === 'success') ? rows : null;
  });
  await schedulerTurns(); // no older interval is filled in
  const { start, n } = await completeIntervals('sc_no_catchup');
  const after = await runsOf('sc_no_catchup');
  assert.equal(after.length, 1, 'exactly one run');
  assert.equal(runs[0]!.logical_date.getTime(), start.getTime() + (n - 1) * HOUR, 'the latest complete hour');
});

test('max_active_runs 1: runs of one DAG never run at the same time', async () => {
  const ids: string[] = [];
  for (let k = 0; k < 3; k++) ids.push((await triggerDag(t.db, 'sc_one_run', { logicalDate: new Date(Date.UTC(2026, 0, 1 + k)) })).id);
  // Right after the triggers at most one run may be running.
  const running = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_run WHERE dag_id = 'sc_one_run' AND state = 'running'`);
  assert.ok(running.rows[0]!.n <= 1);
  for (const id of ids) assert.equal(await waitForRunEnd(t.db, id), 'success');
  const r = await t.db.query<{ id: string; started_at: Date; ended_at: Date }>(`SELECT id, started_at, ended_at FROM dag_run WHERE id = ANY ($1::bigint[]) ORDER BY started_at`, [ids]);
  assert.deepEqual(overlaps(r.rows.map((x) => ({ label: x.id, start: x.started_at, end: x.ended_at }))), []);
  assert.deepEqual(r.rows.map((x) => x.id), ids, 'started in logical-date order');
});

test('a manual trigger applies param defaults and given values', async () => {
  const run = await triggerDag(t.db, 'sc_params');
  assert.deepEqual(run.params, { rows: 10, label: 'nightly', mode: 'full' });
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  const stored = await t.db.query<{ params: unknown; result: unknown }>(
    `SELECT r.params, ti.result FROM dag_run r JOIN task_instance ti ON ti.dag_run_id = r.id WHERE r.id = $1`, [run.id],
  );
  assert.deepEqual(stored.rows[0], { params: { rows: 10, label: 'nightly', mode: 'full' }, result: { rows: 10, label: 'nightly', mode: 'full' } });

  const given = await triggerDag(t.db, 'sc_params', { params: { rows: 42, mode: 'delta' } });
  assert.equal(await waitForRunEnd(t.db, given.id), 'success');
  const res = await t.db.query<{ result: unknown }>(`SELECT result FROM task_instance WHERE dag_run_id = $1`, [given.id]);
  assert.deepEqual(res.rows[0]!.result, { rows: 42, label: 'nightly', mode: 'delta' });
});

test('bad params are rejected with a UsageError naming the param, and no run is written', async () => {
  const before = await counts();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ rows: 'many' }, /param "rows": must be integer/],
    [{ rows: 1000 }, /param "rows": must be <= 100/],
    [{ mode: 'sometimes' }, /param "mode": must be one of "full", "delta"/],
    [{ label: '' }, /param "label": must NOT have fewer than 1 characters/],
    [{ bogus: 1 }, /unknown param "bogus"; this DAG accepts: (?=.*rows)(?=.*label)(?=.*mode)/],
  ];
  for (const [params, message] of cases) {
    await assert.rejects(triggerDag(t.db, 'sc_params', { params }), (err: unknown) => {
      assert.ok(err instanceof UsageError, `UsageError for ${JSON.stringify(params)}`);
      assert.match(err.message, /invalid params for DAG "sc_params"/);
      assert.match(err.message, message);
      return true;
    });
  }
  assert.deepEqual(await counts(), before, 'no dag_run or task_instance row was written');
});

test('an unknown DAG id is rejected with a UsageError naming it, and nothing is written', async () => {
  const before = await counts();
  await assert.rejects(triggerDag(t.db, 'sc_does_not_exist'), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /unknown DAG id "sc_does_not_exist"/);
    assert.match(err.message, /sc_params/, 'the message lists the known DAGs');
    return true;
  });
  assert.deepEqual(await counts(), before);
});

test('a paused DAG\'s triggered run stays queued until the DAG is unpaused', async () => {
  await t.db.query(`UPDATE dag SET is_paused = true WHERE dag_id = 'sc_pausable'`);
  const run = await triggerDag(t.db, 'sc_pausable');
  await schedulerTurns();
  const held = await t.db.query<{ state: string; started_at: Date | null }>('SELECT state, started_at FROM dag_run WHERE id = $1', [run.id]);
  assert.deepEqual(held.rows[0], { state: 'queued', started_at: null });
  assert.deepEqual(await taskStates(t.db, run.id), { t: 'pending' });
  await t.db.query(`UPDATE dag SET is_paused = false WHERE dag_id = 'sc_pausable'`);
  assert.equal(await waitForRunEnd(t.db, run.id), 'success');
  assert.deepEqual(await taskStates(t.db, run.id), { t: 'success' });
});
