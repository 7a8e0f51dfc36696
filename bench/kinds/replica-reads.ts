// The replica-reads kind: how much load a read replica takes off the primary on a
// read-heavy API workload. A real primary and a pg_basebackup streaming standby (Debian's
// PostgreSQL 15, test/support/pg-pair.ts) hold 500 runs × 10 task instances, each with an
// attempt and a 2 kB log. Eight clients loop over the API's heavy reads (runs list, grid,
// task instances, a run's tasks, a task log) through the read router (src/db/read-router.ts)
// for a fixed time, while a writer commits a run every 100 ms on the primary (so the
// replica has something to replay). Run once without the replica (every read on the
// primary), once with it. Measured on the primary: pg_stat_database deltas (transactions,
// tuples returned and fetched, buffer hits) and the CPU of the primary's backends (the
// postmaster's reaped children, after the pools close); plus reads served per second and
// the share the replica served, and the lag the router saw.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../../src/db/database.js';
import { ReadRouter } from '../../src/db/read-router.js';
import { sql } from '../../src/db/sql.js';
import { migratedKeelDatabase, startPair, type PgPair } from '../../test/support/pg-pair.js';
import { intFlag, type FlagSpec, type FlagValues, type KindContext, type KindOutcome } from '../lib/kind.js';

const DEFAULT_SECONDS = 15;

export const FLAGS: Record<string, FlagSpec> = {
  seconds: { type: 'string', about: `length of each phase (default ${DEFAULT_SECONDS})` },
};

const CLIENTS = 8;
const RUNS = 500;
const TASKS = 10;

const SEED = [
  `INSERT INTO dag (dag_id, fileloc, version_hash, serialized) VALUES ('bench_reads', 'bench.ts', 'h', '{"dagId":"bench_reads","tasks":[],"params":{}}')`,
  `INSERT INTO dag_version (dag_id, version_hash, serialized) VALUES ('bench_reads', 'h', '{"dagId":"bench_reads","tasks":[],"params":{}}')`,
  `INSERT INTO dag_run (dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end, state, version_hash)
   SELECT 'bench_reads', 'scheduled__' || i, 'scheduled', timestamptz '2026-01-01' + i * interval '1 hour', timestamptz '2026-01-01' + i * interval '1 hour',
          timestamptz '2026-01-01' + (i + 1) * interval '1 hour', 'success', 'h' FROM generate_series(1, ${RUNS}) i`,
  `INSERT INTO task_instance (dag_run_id, dag_id, task_id, state, try_number, max_tries, pool, pool_slots, priority_weight, queue)
   SELECT r.id, 'bench_reads', 't' || k, 'success', 1, 1, 'default_pool', 1, 1, 'default' FROM dag_run r, generate_series(1, ${TASKS}) k`,
  `INSERT INTO task_attempt (attempt_id, task_instance_id, try_number, state, log)
   SELECT gen_random_uuid(), t.id, 1, 'success', repeat('a log line of the bench task ' || t.id || E'\\n', 60) FROM task_instance t`,
  'ANALYZE',
];

interface DbStats { xact_commit: number; tup_returned: number; tup_fetched: number; blks_hit: number; blks_read: number }
const statsOf = async (c: pg.Client): Promise<DbStats> => {
  await c.query('SELECT pg_stat_clear_snapshot()');
  const r = await c.query(`SELECT xact_commit::float8, tup_returned::float8, tup_fetched::float8, blks_hit::float8, blks_read::float8 FROM pg_stat_database WHERE datname = 'keel'`);
  return r.rows[0] as DbStats;
};
const delta = (a: DbStats, b: DbStats) => Object.fromEntries(Object.keys(a).map((k) => [k, (b as unknown as Record<string, number>)[k]! - (a as unknown as Record<string, number>)[k]!])) as unknown as DbStats;

/** CPU seconds of the primary's reaped children (its backends, once their connections closed). */
function childCpuSec(pgdata: string): number {
  const pid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[14]) + Number(fields[15])) / 100; // cutime + cstime, clock ticks
}

async function phase(pair: PgPair, withReplica: boolean, seconds: number): Promise<Record<string, unknown>> {
  const primary = new Database(pair.primary.url('keel'), { size: CLIENTS + 2, applicationName: 'bench-primary' });
  const replica = withReplica ? new Database(pair.standby.url('keel'), { size: CLIENTS, applicationName: 'bench-replica' }) : null;
  const router = new ReadRouter(primary, replica, { maxLagMs: 2000 });
  await router.start();
  const runIds = (await primary.query<{ id: string }>(`SELECT id FROM dag_run WHERE dag_id = 'bench_reads' ORDER BY id`)).rows.map((r) => r.id);
  const observer = new pg.Client({ connectionString: pair.primary.url('keel') });
  await observer.connect();
  const cpuBefore = childCpuSec(pair.primary.dir);
  const before = await statsOf(observer);
  const lags: number[] = [];
  let reads = 0;
  let writes = 0;
  const end = performance.now() + seconds * 1000;
  const pick = () => runIds[Math.floor(Math.random() * runIds.length)]!;
  const client = async () => {
    while (performance.now() < end) {
      const run = pick();
      await router.query(sql('api/runs_list'), ['bench_reads', null, null, null, null, 50, Math.floor(Math.random() * 400)]);
      await router.query(sql('api/dag_grid'), ['bench_reads', 25]);
      await router.query(sql('api/task_instances'), ['bench_reads', null, 100, 0]);
      await router.query(sql('cli/task_instances_of_run'), [run]);
      await router.query(sql('api/task_log'), [run, `t${1 + Math.floor(Math.random() * TASKS)}`, null, 0, 65536]);
      reads += 5;
    }
  };
  const writer = async () => {
    for (let i = 0; performance.now() < end; i++) {
      await primary.query(`INSERT INTO ha_event (kind, details) VALUES ('bench_write', jsonb_build_object('i', $1::int))`, [i]);
      writes++;
      const lag = router.route.lagMs;
      if (lag !== null) lags.push(lag);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await Promise.all([writer(), ...Array.from({ length: CLIENTS }, client)]);
  const after = await statsOf(observer);
  const stats = router.stats();
  router.stop();
  await primary.close();
  await replica?.close();
  await observer.end();
  await new Promise((r) => setTimeout(r, 1000)); // backends exit and are reaped
  const cpuAfter = childCpuSec(pair.primary.dir);
  const d = delta(before, after);
  lags.sort((a, b) => a - b);
  return {
    replica: withReplica, seconds, clients: CLIENTS, reads, readsPerSec: Math.round(reads / seconds), writes,
    servedByReplica: stats.servedByReplica, servedByPrimary: stats.servedByPrimary, replicaErrors: stats.replicaErrors,
    primary: { ...d, cpuSec: Math.round((cpuAfter - cpuBefore) * 100) / 100, tupPerRead: Math.round((d.tup_returned + d.tup_fetched) / Math.max(1, reads)) },
    routerLagMs: lags.length ? { p50: lags[Math.floor(lags.length / 2)], max: lags.at(-1) } : null,
  };
}

export async function run(flags: FlagValues, ctx: KindContext): Promise<KindOutcome> {
  const seconds = intFlag(flags, 'seconds', DEFAULT_SECONDS);
  const pair = await startPair();
  ctx.cleanup(() => pair.stop());
  const db: Database = await migratedKeelDatabase(pair, 2);
  for (const s of SEED) await db.query(s);
  await db.close();
  // The standby replays the seed before the first phase.
  const standby = new pg.Client({ connectionString: pair.standby.url('keel') });
  for (let i = 0; ; i++) {
    try {
      await standby.connect();
      break;
    } catch {
      if (i > 50) throw new Error('the standby does not accept connections');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  while (Number((await standby.query(`SELECT count(*) FROM task_attempt`)).rows[0].count) < RUNS * TASKS) await new Promise((r) => setTimeout(r, 200));
  await standby.end();
  const load = loadavg()[0];
  const without = await phase(pair, false, seconds);
  const withReplica = await phase(pair, true, seconds);
  const w = without.primary as DbStats & { cpuSec: number };
  const r = withReplica.primary as DbStats & { cpuSec: number };
  const saved = (k: keyof DbStats | 'cpuSec') => `${Math.round((1 - (r[k] as number) / Math.max(1, w[k] as number)) * 100)} %`;
  const result = {
    at: new Date().toISOString(), loadavg1: load, runs: RUNS, taskInstances: RUNS * TASKS, without, withReplica,
    primaryLoadSaved: { tup_returned: saved('tup_returned'), tup_fetched: saved('tup_fetched'), blks_hit: saved('blks_hit'), xact_commit: saved('xact_commit'), cpuSec: saved('cpuSec') },
  };
  console.log(JSON.stringify(result, null, 2));
  return { ok: true, result };
}
