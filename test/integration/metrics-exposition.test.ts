// What Keel really exports on /metrics, scraped from a running fleet (DAG processor,
// scheduler, worker, triggerer, API) after a run that succeeds and one that fails: the
// exposition passes `promtool check metrics` (Prometheus naming conventions), carries task
// outcomes by DAG and state, run durations, queue wait and the loop durations, and every
// metric that the alert rules and the Grafana dashboard in deploy/ use exists.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, waitForRunEnd, type TestCluster } from '../support/cluster.js';
import { requireTool } from '../support/tools.js';

const DAGS = fileURLToPath(new URL('../fixtures/observability/', import.meta.url));
const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const PROMTOOL = requireTool('/usr/bin/promtool', 'prometheus');
/** Named by alert rules but exported by parts of Keel this fleet does not run (backup scheduling, a DR standby monitor). */
const EXPORTED_ELSEWHERE = new Set(['keel_backup_last_success_timestamp_seconds', 'keel_backup_interval_seconds', 'keel_dr_lag_seconds', 'keel_dr_rpo_target_seconds']);

let t: TestDatabase;
let cluster: TestCluster;
let exposition = '';
/** The worker's and the scheduler's own expositions (queue wait and loop durations are observed by the process that claims or turns). */
let workerExposition = '';
let schedulerExposition = '';

/** Metric family names declared in an exposition (`# TYPE name type`). */
function families(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** keel_* names an expression refers to, with histogram and summary suffixes taken off. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bkeel_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS, { apiPort: 0, apiDrainSec: 0, healthPort: 0, expectedCopies: 'scheduler=2,worker=1' }), ['dag-processor', 'scheduler', 'worker', 'triggerer', 'api']);
  await waitForDag(t.db, 'obs_good');
  await waitForDag(t.db, 'obs_bad');
  const good = await triggerDag(t.db, 'obs_good');
  const bad = await triggerDag(t.db, 'obs_bad');
  assert.equal(await waitForRunEnd(t.db, good.id), 'success');
  assert.equal(await waitForRunEnd(t.db, bad.id), 'failed');
  const url = `http://127.0.0.1:${cluster.role('api').apiPort}/metrics`;
  exposition = await waitFor('the failed attempt in the metrics', async () => {
    const text = await (await fetch(url)).text();
    return /^keel_task_attempts_total\{dag_id="obs_bad",state="failed"\} 1$/m.test(text) ? text : null;
  });
  workerExposition = await (await fetch(`http://127.0.0.1:${cluster.role('worker').healthPort}/metrics`)).text();
  schedulerExposition = await (await fetch(`http://127.0.0.1:${cluster.role('scheduler').healthPort}/metrics`)).text();
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

test('the exposition passes promtool check metrics', () => {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  assert.equal((r.stdout + r.stderr).trim(), '', 'no lint findings');
  for (const [name, type] of families(exposition)) {
    if (type === 'counter') assert.match(name, /_total$/, `counter ${name} ends in _total`);
    else assert.doesNotMatch(name, /_total$/, `${type} ${name} does not end in _total`);
    if (type === 'histogram') assert.match(name, /_(seconds|bytes)$/, `histogram ${name} has its unit in its name`);
  }
});

test('task outcomes by DAG and state, run durations, queue wait, loop durations', () => {
  assert.match(exposition, /^keel_task_attempts_total\{dag_id="obs_good",state="success"\} 1$/m);
  assert.match(exposition, /^keel_dag_run_duration_seconds_count\{dag_id="obs_good",state="success"\} 1$/m);
  assert.match(exposition, /^keel_dag_run_duration_seconds_count\{dag_id="obs_bad",state="failed"\} 1$/m);
  assert.match(exposition, /^keel_dag_run_duration_seconds_bucket\{dag_id="obs_bad",state="failed",le="\+Inf"\} 1$/m);
  const sum = Number(/^keel_dag_run_duration_seconds_sum\{dag_id="obs_good",state="success"\} (\S+)$/m.exec(exposition)?.[1]);
  assert.ok(sum > 0, `a run takes some time (sum ${sum})`);
  // Two tasks waited in the default queue and were claimed by the worker.
  assert.match(workerExposition, /^keel_task_queue_wait_seconds_count\{queue="default"\} 2$/m);
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: workerExposition, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics on the worker's health port:\n${r.stdout}${r.stderr}`);
  assert.match(schedulerExposition, /^keel_loop_duration_seconds_count\{role="scheduler"\} [1-9]\d*$/m);
  assert.match(exposition, /^keel_role_copies_expected\{role="scheduler"\} 2$/m);
  assert.match(exposition, /^keel_components\{role="scheduler",hostname="[^"]+"\} 1$/m);
  assert.match(exposition, /^keel_queue_workers\{queue="default"\} 1$/m);
  assert.match(exposition, /^keel_triggers_unheld 0$/m);
  assert.match(exposition, /^keel_ha_events_total\{kind="component_joined"\} [1-9]\d*$/m);
  for (const old of ['keel_ha_events', 'keel_db_outages', 'keel_db_host_changes', 'keel_db_heavy_reads', 'keel_loop_seconds', 'keel_db_unreachable_seconds']) {
    assert.ok(!families(exposition).has(old), `${old} is gone (renamed by Prometheus conventions)`);
  }
});

test('every metric the alert rules use is exported (or named as exported elsewhere)', () => {
  const exported = new Map([...families(exposition), ...families(workerExposition), ...families(schedulerExposition)]);
  const used = new Set(metricNames(readFileSync(root('deploy/prometheus/alerts.yml'), 'utf8').replace(/^\s*#.*$/gm, '')));
  assert.ok(used.size > 10);
  for (const name of used) {
    if (EXPORTED_ELSEWHERE.has(name)) assert.ok(!exported.has(name), `${name} is exported now: take it off EXPORTED_ELSEWHERE`);
    else assert.ok(exported.has(name), `alerts.yml uses ${name}, which Keel does not export`);
  }
});

test('every metric of the Grafana dashboard is exported, and every alert signal has a panel', () => {
  const exported = new Map([...families(exposition), ...families(workerExposition), ...families(schedulerExposition)]);
  const dashboard = JSON.parse(readFileSync(root('deploy/grafana/keel-dashboard.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((x) => x.expr));
  assert.ok(exprs.length > 10, 'the dashboard has panels with queries');
  const used = new Set(exprs.flatMap(metricNames));
  for (const name of used) {
    if (EXPORTED_ELSEWHERE.has(name)) continue;
    assert.ok(exported.has(name), `the dashboard uses ${name}, which Keel does not export`);
  }
  const alerting = new Set(metricNames(readFileSync(root('deploy/prometheus/alerts.yml'), 'utf8').replace(/^\s*#.*$/gm, '')));
  for (const name of alerting) assert.ok(used.has(name), `an alert watches ${name}: the dashboard shows it too`);
});
