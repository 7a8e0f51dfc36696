// Gathers what `keel ha diagnose` judges (src/core/ha-diagnose.ts): the database as this
// process reaches it, its replicas, Patroni's and etcd's view when configured, the database
// each live component sees, and leases nobody acted on. Every source may fail to answer;
// that is recorded as what it says about the failover, never thrown.
import { diagnose, type DiagnoseInput, type Diagnosis } from '../core/ha-diagnose.js';
import type { KeelOptions } from '../config/options.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { readEtcd, readPatroni } from './patroni-etcd.js';

/** Lease expiry this long without a fence is stuck: several orphan sweeps have passed. */
const STUCK_AFTER_SEC = 30;

export type DiagnoseOptions = Pick<KeelOptions, 'patroniUrls' | 'etcdEndpoints' | 'componentDeadAfterSec' | 'dbOutageGraceSec' | 'replicaMaxLagMs'>;

async function databaseView(db: Database, options: DiagnoseOptions): Promise<Pick<DiagnoseInput, 'database' | 'replicas' | 'components' | 'leases'>> {
  const id = (await db.query<{ in_recovery: boolean; timeline: number | null }>(sql('ha/server_identity'))).rows[0]!;
  const replicas = id.in_recovery ? null : (await db.query<{ name: string; state: string; replay_lag_sec: number | null }>(sql('ha/db_replicas'))).rows;
  const components = (await db.query<{ role: string; hostname: string; pid: number; db: { server?: string; timeline?: number; fit?: boolean; verdict?: string } | null }>(sql('ha/diagnose_components'), [options.componentDeadAfterSec])).rows;
  const l = (await db.query<{ expired_running: number; oldest_expired_sec: number | null; expired_triggers: number; live_schedulers: number; live_triggerers: number; fencing_allowed: boolean }>(
    sql('ha/diagnose_leases'), [options.dbOutageGraceSec, options.componentDeadAfterSec])).rows[0]!;
  return {
    database: { reachable: true, inRecovery: id.in_recovery, timeline: id.timeline },
    replicas: replicas?.map((r) => ({ name: r.name, state: r.state, replayLagSec: r.replay_lag_sec })) ?? null,
    components: components.map((c) => ({
      role: c.role, hostname: c.hostname, pid: c.pid,
      db: c.db ? { server: c.db.server ?? null, timeline: c.db.timeline ?? null, fit: c.db.fit !== false, verdict: c.db.verdict ?? null } : null,
    })),
    leases: {
      expiredRunning: l.expired_running, oldestExpiredSec: l.oldest_expired_sec, expiredTriggers: l.expired_triggers,
      liveSchedulers: l.live_schedulers, liveTriggerers: l.live_triggerers, fencingAllowed: l.fencing_allowed,
    },
  };
}

/** The findings; `db` is null (with `dbError`) when this process could not reach the database. */
export async function runDiagnosis(db: Database | null, dbError: string | null, options: DiagnoseOptions): Promise<Diagnosis[]> {
  let fromDb: Pick<DiagnoseInput, 'database' | 'replicas' | 'components' | 'leases'>;
  try {
    if (!db) throw new Error(dbError ?? 'not connected');
    fromDb = await databaseView(db, options);
  } catch (err) {
    fromDb = {
      database: { reachable: false, error: (err as Error).message }, replicas: null, components: [],
      leases: { expiredRunning: 0, oldestExpiredSec: null, expiredTriggers: 0, liveSchedulers: 0, liveTriggerers: 0, fencingAllowed: true },
    };
  }
  return diagnose({
    ...fromDb,
    patroni: options.patroniUrls ? await readPatroni(options.patroniUrls) : null,
    etcd: options.etcdEndpoints ? await readEtcd(options.etcdEndpoints) : null,
    replicaLagWarnSec: options.replicaMaxLagMs / 1000, stuckAfterSec: STUCK_AFTER_SEC,
  });
}
