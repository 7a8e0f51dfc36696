// Split brain on a real cluster: kill -9 of the primary's Patroni leaves its postmaster
// running and writable for anyone connected to it directly, while HAProxy drops it and a
// replica is promoted on a new timeline. One worker (W1) reaches the database only by a
// multi-host URL that names the old primary first (its pools and session land there); the
// scheduler, the DAG processor and a second worker (W2) use HAProxy's read-write port. The
// chaos ledger is written through HAProxy, so it records on the new primary every attempt
// that really ran, wherever it was claimed.
//
// W1 must notice that its server is an isolated old primary and stop taking work there
// (the split-brain guard of src/ha/session.ts, src/ha/primary-identity.ts): after it said
// so, no attempt unknown to the new primary starts; no task runs twice at once (by the
// ledger, across both primaries) except work W1 claimed on the old primary before its
// verdict, which it must kill within SPLIT_WINDOW_MS of it (the detection window, reported);
// every run acknowledged by the new primary finishes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPgCluster, type PgCluster } from '../../tools/pg-cluster/cluster.js';
import { createDatabase, databaseUrl } from '../../tools/pg-cluster/failover.js';
import { sql } from '../../src/db/sql.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { waitFor } from '../support/cluster.js';
import { freePort } from '../support/tools.js';
import { afterLoopTurns } from '../support/turns.js';

const CHAOS_DAGS = fileURLToPath(new URL('../../src/ops/chaos/dags/', import.meta.url));
const DAG_IDS = ['chaos_fanout', 'chaos_chain', 'chaos_mixed'];
const DB = 'keel_split_brain';
/** How long after W1's verdict its work on the old primary may still run: one primary check (1 s) and the runner's abort grace, with margin. */
const SPLIT_WINDOW_MS = 3000;

let cluster: PgCluster;
let db: Database;
const procs: KeelProcess[] = [];

before(async () => {
  cluster = await startPgCluster({ synchronous: false, log: (m) => console.log(`# ${m}`) });
  await createDatabase(cluster.urls.rw, DB);
  db = new Database(databaseUrl(cluster.urls.rw, DB), { size: 4, applicationName: 'keel-split-brain-test' });
  await migrate(db);
  await db.query(sql('chaos/history_create'));
  await db.query(`UPDATE pool SET slots = 1000 WHERE name = 'default_pool'`);
});

after(async () => {
  await killAll(procs);
  await db?.close();
  await cluster?.stop();
});

/** A multi-host URL naming `first` before the other nodes: what a client that resolved the old primary holds. */
function multiHost(first: string): string {
  const order = [first, ...cluster.nodes.map((n) => n.name).filter((n) => n !== first)];
  const u = new URL(cluster.urls.nodes[first]!);
  const hosts = order.map((n) => `127.0.0.1:${cluster.node(n).pgPort}`).join(',');
  return `postgres://${u.username}:${u.password}@${hosts}/${DB}?target_session_attrs=read-write`;
}

/** The test's own queries ride through the failover like Keel's (HAProxy cuts every session of the old primary). */
const q = <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) => db.withRetry(() => db.query<R>(text, values), { maxElapsedMs: 60_000 });

interface Ledger { dag_id: string; run_id: string; task_id: string; attempt_id: string; event: 'start' | 'finish'; at: Date }

test('a worker left on an isolated old primary stops taking work there and runs nothing twice', { timeout: 300_000 }, async () => {
  const oldLeader = await cluster.leader();
  const route = databaseUrl(cluster.urls.rw, DB);
  const common = {
    KEEL_DAGS_FOLDER: CHAOS_DAGS, CHAOS_HISTORY_URL: route, KEEL_TASK_ENV_ALLOW: 'CHAOS_HISTORY_URL', KEEL_ATTEMPT_LEASE_SEC: '30', KEEL_WORKER_CONCURRENCY: '4',
    KEEL_SCHEDULER_LOOP_MS: '500', KEEL_DB_PRIMARY_CHECK_MS: '1000', KEEL_LOG_LEVEL: 'info',
  };
  procs.push(spawnKeel(['dag-processor'], { ...common, KEEL_DATABASE_URL: route }));
  procs.push(spawnKeel(['scheduler'], { ...common, KEEL_DATABASE_URL: route }));
  const w2 = spawnKeel(['worker'], { ...common, KEEL_DATABASE_URL: route });
  // W1's health port tells how often its claim loop has turned, whichever server it is on.
  const w1HealthPort = await freePort();
  const w1 = spawnKeel(['worker'], { ...common, KEEL_DATABASE_URL: multiHost(oldLeader), KEEL_HEALTH_PORT: String(w1HealthPort) });
  procs.push(w2, w1);
  await waitFor('the chaos DAGs', async () => (await q<{ n: number }>(`SELECT count(*)::int AS n FROM dag WHERE dag_id = ANY ($1) AND is_active`, [DAG_IDS])).rows[0]!.n === DAG_IDS.length, 60_000, 250);
  const w1Id = await waitFor('W1 to register', async () => (await q<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [w1.child.pid])).rows[0]?.id, 60_000, 250);

  // A steady stream of triggers through HAProxy (acknowledged = committed on the primary of the moment).
  const acked: string[] = [];
  let triggering = true;
  const trigger = (async () => {
    for (let i = 0; triggering && i < 400; i++) {
      try {
        acked.push((await triggerDag(db, DAG_IDS[i % DAG_IDS.length]!, { params: { seed: i } })).id);
      } catch { /* not acknowledged */ }
      await new Promise((r) => setTimeout(r, 400));
    }
  })();

  await waitFor('W1 to run attempts on the old primary', async () =>
    (await q<{ n: number }>(`SELECT count(*)::int AS n FROM task_attempt WHERE worker_id = $1`, [w1Id])).rows[0]!.n >= 3, 60_000, 250);
  const killed = cluster.killPatroni(oldLeader);
  console.log(`# killed Patroni of ${oldLeader} (${killed.pids.join(',')}); its postmaster stays up`);
  const isolated = new pg.Client({ connectionString: databaseUrl(cluster.urls.nodes[oldLeader]!, DB) });
  isolated.on('error', () => {});
  await isolated.connect();
  const newLeader = await waitFor('a new leader', async () => (await cluster.members()).find((m) => m.role === 'leader' && m.state === 'running' && m.name !== oldLeader)?.name, 60_000, 200);
  const stillWritable = (await isolated.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]!.r === false;
  console.log(`# ${newLeader} leads; the old primary ${oldLeader} still accepts writes: ${stillWritable}`);
  assert.ok(stillWritable, 'the harness made a real split brain: the old primary is still a writable primary');

  // The guard's verdict, recorded on the real primary.
  const unfit = await waitFor('W1 to declare its server an isolated old primary', async () =>
    (await q<{ at: Date; details: unknown }>(`SELECT at, details FROM ha_event WHERE component_id = $1 AND kind IN ('db_isolated_primary', 'db_demoted_primary') ORDER BY at LIMIT 1`, [w1Id])).rows[0], 60_000, 250);
  console.log(`# W1 unfit at ${unfit.at.toISOString()}: ${JSON.stringify(unfit.details)}`);
  // W1 has had its chances to take work on the old primary: as many claim-loop turns as 8 s gives at its 1 s poll.
  await afterLoopTurns(w1HealthPort, 8, 60_000);
  triggering = false;
  await trigger;

  const settled = await waitFor('every acknowledged run to finish', async () =>
    (await q<{ n: number }>(`SELECT count(*)::int AS n FROM dag_run WHERE id = ANY ($1) AND state IN ('queued', 'running')`, [acked])).rows[0]!.n === 0, 150_000, 500).catch(() => false);

  const ledger = (await q<Ledger>('SELECT dag_id, run_id, task_id, attempt_id, event, at FROM keel_chaos_history')).rows;
  const attempts = (await q<{ attempt_id: string; ended_at: Date | null }>('SELECT attempt_id, ended_at FROM task_attempt')).rows;
  const known = new Set(attempts.map((r) => r.attempt_id));
  const stale = (await isolated.query<{ attempt_id: string; ended_at: Date | null }>('SELECT attempt_id, ended_at FROM task_attempt')).rows;
  // An attempt without a ledger finish (it failed, or was killed) ended when either primary says it did.
  const endedAt = new Map([...stale, ...attempts].filter((a) => a.ended_at).map((a) => [a.attempt_id, a.ended_at!.getTime()]));
  await isolated.end();
  const runs = (await q<{ id: string; state: string }>('SELECT id, state FROM dag_run WHERE id = ANY ($1)', [acked])).rows;

  // Attempts claimed on the old primary that the new one never heard of: split-brain work.
  const staleOnly = new Set(stale.filter((a) => !known.has(a.attempt_id)).map((a) => a.attempt_id));
  const staleStartsAfterVerdict = ledger.filter((l) => l.event === 'start' && staleOnly.has(l.attempt_id) && l.at > unfit.at);
  // No two attempts of one task ran at once, across both primaries (ledger spans by dag, run, task).
  const spans = new Map<string, { attempt: string; start: number; end: number }[]>();
  const byAttempt = new Map<string, { key: string; start?: number; end?: number }>();
  for (const l of ledger) {
    const e = byAttempt.get(l.attempt_id) ?? { key: `${l.dag_id}/${l.run_id}/${l.task_id}` };
    if (l.event === 'start') e.start = Math.min(e.start ?? Infinity, l.at.getTime());
    else e.end = Math.max(e.end ?? 0, l.at.getTime());
    byAttempt.set(l.attempt_id, e);
  }
  // An attempt W1 claimed on the isolated primary is unknown to the new one, so no server
  // records its end: W1's own log says when it killed it (self-fencing on the verdict).
  const selfFencedAt = new Map<string, number>();
  for (const line of w1.output().split('\n')) {
    try {
      const j = JSON.parse(line) as { msg?: string; attemptId?: string; time?: number };
      if (j.msg?.startsWith('self-fencing') && j.attemptId && j.time) selfFencedAt.set(j.attemptId, j.time);
    } catch { /* not a log line */ }
  }
  for (const [attempt, e] of byAttempt) {
    if (e.start === undefined) continue;
    spans.set(e.key, [...(spans.get(e.key) ?? []), { attempt, start: e.start, end: e.end ?? endedAt.get(attempt) ?? selfFencedAt.get(attempt) ?? Date.now() }]);
  }
  // The split-brain window: work W1 claimed on the old primary before its verdict may run
  // beside its rerun on the new primary until W1 kills it, within SPLIT_WINDOW_MS of the
  // verdict. Any other overlap, or a longer one, is a violation.
  const overlaps: string[] = [];
  const windowOverlaps: string[] = [];
  for (const [key, list] of spans) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const [earlier, later] = [list[i - 1]!, list[i]!];
      if (later.start >= earlier.end) continue;
      const text = `${key}: ${earlier.attempt} and ${later.attempt} overlapped ${earlier.end - later.start} ms`;
      const inWindow = staleOnly.has(earlier.attempt) && selfFencedAt.has(earlier.attempt) && earlier.end <= unfit.at.getTime() + SPLIT_WINDOW_MS;
      (inWindow ? windowOverlaps : overlaps).push(text);
    }
  }
  const report = {
    oldLeader, newLeader, acked: acked.length, runs: runs.length, unfinished: runs.filter((r) => r.state !== 'success').length,
    staleOnlyAttempts: staleOnly.size, staleStartsAfterVerdict: staleStartsAfterVerdict.length, overlaps: overlaps.length, windowOverlaps,
    w1StoppedLogLines: w1.output().split('\n').filter((l) => l.includes('stops taking work')).length,
  };
  console.log(`# split brain: ${JSON.stringify(report)}`);
  if (overlaps.length) for (const o of overlaps) for (const id of o.match(/[0-9a-f-]{36}/g) ?? []) console.log(`# W1 log for ${id}:\n${w1.output().split('\n').filter((l) => l.includes(id)).join('\n')}`);
  assert.deepEqual(staleStartsAfterVerdict.map((l) => `${l.dag_id}/${l.run_id}/${l.task_id} ${l.attempt_id}`), [], 'W1 started nothing on the old primary after it declared it isolated');
  assert.deepEqual(overlaps, [], 'no task ran twice at once across the two primaries, beyond the detection window');
  assert.ok(settled, 'every acknowledged run finished');
  assert.deepEqual(runs.filter((r) => r.state !== 'success').map((r) => `${r.id} ${r.state}`), []);
  assert.equal(runs.length, acked.length, 'every acknowledged trigger is on the new primary');
  assert.ok(acked.length >= 5, `a real workload ran (${acked.length} runs)`);
});
