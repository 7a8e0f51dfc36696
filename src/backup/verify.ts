// `keel backup verify --from DIR`: restores the backup into a scratch data folder (a temp
// dir, a free loopback port), runs the schema check and Keel's integrity checks on the data
// as restored, tells what it restored, and removes the scratch server. A backup nobody
// restored is a hope; this is the proof. docs/disaster-recovery.md.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupManifest, LastRun, RowCounts } from '../core/backup-manifest.js';
import { FINAL_TASK_STATES } from '../core/types.js';
import type { Database } from '../db/database.js';
import { LATEST_SCHEMA_VERSION, schemaStatus } from '../db/migrate.js';
import { sql } from '../db/sql.js';
import { restoreBackup } from './restore.js';

export interface Check { name: string; ok: boolean; detail: string }

export interface VerifyReport {
  ok: boolean;
  backup: string;
  recoveryPoint: { lsn: string; timeline: number; backupFinishedAt: string; systemId: string };
  schemaVersion: { backup: number; restored: number; migratedTo: number };
  lastRun: LastRun | null;
  counts: RowCounts | null;
  attemptsFenced: number;
  checks: Check[];
}

async function integrityChecks(db: Database, manifest: BackupManifest): Promise<{ checks: Check[]; lastRun: LastRun | null; counts: RowCounts }> {
  const checks: Check[] = [];
  const status = await schemaStatus(db);
  checks.push({ name: 'schema', ok: status.pending.length === 0, detail: status.pending.length === 0 ? `at version ${status.applied.at(-1)?.version ?? 0}, none pending` : `pending: ${status.pending.map((p) => p.version).join(', ')}` });
  const system = (await db.query<{ system_id: string }>(sql('backup/backup_source'))).rows[0]!;
  checks.push({ name: 'system identifier', ok: system.system_id === manifest.systemId, detail: system.system_id === manifest.systemId ? system.system_id : `restored ${system.system_id}, manifest ${manifest.systemId}: the data is not the manifest's` });
  const leaseless = (await db.query<{ id: string; dag_run_id: string; task_id: string }>(sql('backup/integrity_running_without_lease'))).rows;
  checks.push({ name: 'running attempts have a lease', ok: leaseless.length === 0, detail: leaseless.length === 0 ? 'every running attempt has an attempt id, a worker and a lease' : leaseless.map((r) => `task instance ${r.id} (run ${r.dag_run_id}, ${r.task_id})`).join('; ') });
  const orphans = (await db.query<{ kind: string; n: number }>(sql('backup/integrity_orphans'))).rows.filter((r) => r.n > 0);
  checks.push({ name: 'no orphan rows', ok: orphans.length === 0, detail: orphans.length === 0 ? 'every task instance, attempt and run has its parent' : orphans.map((o) => `${o.n} ${o.kind}`).join('; ') });
  const contradictions = (await db.query<{ id: string; run_id: string; state: string; task_id: string; task_state: string }>(sql('backup/integrity_run_states'), [FINAL_TASK_STATES])).rows;
  checks.push({ name: 'run states agree with their tasks', ok: contradictions.length === 0, detail: contradictions.length === 0 ? 'no finished run with an unfinished task, no queued run with a started one' : contradictions.map((c) => `run ${c.run_id} is ${c.state} but ${c.task_id} is ${c.task_state}`).join('; ') });
  const last = (await db.query<Omit<LastRun, 'created_at'> & { created_at: Date }>(sql('backup/last_run'))).rows[0];
  const counts = (await db.query<RowCounts>(sql('backup/row_counts'))).rows[0]!;
  return { checks, lastRun: last ? { ...last, created_at: last.created_at.toISOString() } : null, counts };
}

/** Restores `from` into a scratch folder, checks it, removes it. Never throws on a failed check: report.ok says. */
export async function verifyBackup(from: string): Promise<VerifyReport> {
  const scratch = mkdtempSync(join(tmpdir(), 'keel-backup-verify-'));
  // As root the server runs as the postgres user, who must pass through (mkdtemp makes it 0700).
  chmodSync(scratch, 0o711);
  try {
    let inspected: Awaited<ReturnType<typeof integrityChecks>> | null = null;
    const restored = await restoreBackup({ from, to: join(scratch, 'data') }, async (db, manifest) => {
      inspected = await integrityChecks(db, manifest);
    });
    const found = inspected as Awaited<ReturnType<typeof integrityChecks>> | null;
    const m = restored.manifest;
    const checks = [
      { name: 'schema version matches the manifest', ok: restored.restoredSchemaVersion === m.schemaVersion, detail: `data at ${restored.restoredSchemaVersion}, manifest ${m.schemaVersion}` },
      ...(found?.checks ?? []),
    ];
    return {
      ok: checks.every((c) => c.ok), backup: from,
      recoveryPoint: { lsn: m.recoveryLsn, timeline: m.timeline, backupFinishedAt: m.finishedAt, systemId: m.systemId },
      schemaVersion: { backup: m.schemaVersion, restored: restored.restoredSchemaVersion, migratedTo: LATEST_SCHEMA_VERSION },
      lastRun: found?.lastRun ?? null, counts: found?.counts ?? null,
      attemptsFenced: restored.fence?.attempts.length ?? 0, checks,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
