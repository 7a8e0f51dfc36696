// `keel restore --from DIR --to DATA_DIR`: a backup into a new Keel data folder, checked
// first (manifest, schema version, pg_verifybackup's checksums, an empty target) so that a
// bad input writes nothing. Then the restored database's first start, here: its superuser
// gets a new password (<DATA_DIR>/postgres-password), the schema is migrated, and the fleet
// the backup was taken from is fenced through the operator fence (fenceComponents): every
// attempt running at the recovery point ends fenced and is retried per its policy, its
// components never take work here again, and a `restored` HA event records it. A process
// that joined after the backup has no component row here: its session finds itself unknown
// and stops (src/ha/session.ts). docs/disaster-recovery.md.
import { spawn } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkManifest, MANIFEST_FILE, type BackupManifest } from '../core/backup-manifest.js';
import { Database } from '../db/database.js';
import { binaries, serverIdentity, startEmbedded, type EmbeddedServer } from '../db/embedded.js';
import { PASSWORD_FILE, SUPERUSER } from '../db/embedded-auth.js';
import { LATEST_SCHEMA_VERSION, migrate, schemaStatus } from '../db/migrate.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import { fenceComponents, type FenceResult } from '../fencing/operator-fence.js';
import { freePort } from '../free-port.js';
import { randomSecret, readSecretFile, type FileOwner } from '../secrets/secret-file.js';
import { DATA_SUBDIR, refuseNonEmpty } from './backup.js';
import { majorOf, pgTool, runTool } from './pg-tools.js';

export interface RestoreInput {
  from: string;
  to: string;
  /** A file holding the secret key (from `keel backup --secret-key-to`): written to <to>/secret-key. */
  secretKeyFrom?: string;
}

export interface RestoredFirstStart {
  /** The schema version the restored data had before this Keel migrated it. */
  restoredSchemaVersion: number;
  fence: FenceResult | null;
}

export interface RestoreResult extends RestoredFirstStart { dir: string; manifest: BackupManifest }

/** Runs between the migration and the fencing of the first start (`keel backup verify` checks the data as it was restored). */
export type Inspect = (db: Database, manifest: BackupManifest) => Promise<void>;

/** The manifest of a backup folder, checked; a UsageError naming the file and the fix otherwise. */
export function readManifest(from: string): BackupManifest {
  const file = join(resolve(from), MANIFEST_FILE);
  const checked = checkManifest(existsSync(file) ? readFileSync(file, 'utf8') : null, file, LATEST_SCHEMA_VERSION);
  if (!checked.ok) throw new UsageError(`${checked.problem}; nothing was written`);
  return checked.manifest;
}

/** Every check of a restore that can fail on bad input, before anything is written. */
async function checkInput(input: RestoreInput): Promise<{ manifest: BackupManifest; secretKey: string | null }> {
  const manifest = readManifest(input.from);
  const pgdata = join(resolve(input.from), DATA_SUBDIR);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) throw new UsageError(`${join(pgdata, 'PG_VERSION')} is missing: the backup's data folder is incomplete; take a new backup; nothing was written`);
  refuseNonEmpty(resolve(input.to), '--to', 'restore');
  let secretKey: string | null = null;
  if (input.secretKeyFrom) {
    secretKey = readSecretFile(resolve(input.secretKeyFrom));
    if (secretKey === null || secretKey.length < 16) throw new UsageError(`--secret-key-from ${input.secretKeyFrom}: ${secretKey === null ? 'no such file' : 'not a secret key (16+ characters)'}; give the file \`keel backup --secret-key-to\` wrote; nothing was written`);
  }
  const verify = await runTool(pgTool('pg_verifybackup', majorOf(manifest.serverVersion)), ['--quiet', pgdata]);
  if (verify.code !== 0) throw new UsageError(`the backup in ${pgdata} does not match its backup_manifest (pg_verifybackup: ${verify.output}): it is corrupt or incomplete; take a new backup; nothing was written`);
  return { manifest, secretKey };
}

function chownTree(dir: string, ids: FileOwner): void {
  chownSync(dir, ids.uid, ids.gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) chownTree(path, ids);
    else if (!e.isSymbolicLink()) chownSync(path, ids.uid, ids.gid);
  }
}

/**
 * The superuser and its new password, set in single-user mode (no network at all): the
 * restored cluster keeps the old one's password hashes, and a backup of a plain server
 * may have no `keel` role yet.
 */
async function setSuperuserPassword(pgdata: string, database: string, password: string, ids: FileOwner | null): Promise<void> {
  const { postgres } = await binaries();
  const literal = `'${password.replace(/'/g, "''")}'`;
  const statement = `DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${SUPERUSER}') THEN ALTER ROLE ${SUPERUSER} WITH SUPERUSER LOGIN REPLICATION PASSWORD ${literal}; ELSE CREATE ROLE ${SUPERUSER} WITH SUPERUSER LOGIN REPLICATION PASSWORD ${literal}; END IF; END $$;\n`;
  await new Promise<void>((done, fail) => {
    const child = spawn(postgres, ['--single', '-D', pgdata, '-c', 'password_encryption=scram-sha-256', '-c', 'unix_socket_directories=', database], { stdio: ['pipe', 'pipe', 'pipe'], ...(ids ?? {}) });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 && !/\bERROR:/.test(output) ? done() : fail(new Error(`setting the restored superuser's password failed (postgres --single, exit ${code}): ${output.trim().slice(-800)}`))));
    child.stdin.end(statement);
  });
}

/** Copies the backup's data into <to>/pgdata, owned by the server's user, with a new superuser password. */
async function placeData(from: string, to: string, manifest: BackupManifest, secretKey: string | null): Promise<void> {
  const ids = serverIdentity();
  mkdirSync(to, { recursive: true });
  const pgdata = join(to, DATA_SUBDIR);
  cpSync(join(resolve(from), DATA_SUBDIR), pgdata, { recursive: true, preserveTimestamps: true });
  rmSync(join(pgdata, 'backup_manifest'), { force: true });
  chmodSync(pgdata, 0o700);
  if (ids) chownTree(to, ids);
  const password = randomSecret();
  writeFileSync(join(to, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  if (ids) chownSync(join(to, PASSWORD_FILE), ids.uid, ids.gid);
  if (secretKey !== null) writeFileSync(join(to, 'secret-key'), `${secretKey}\n`, { mode: 0o600 });
  await setSuperuserPassword(pgdata, manifest.database, password, ids);
}

/** The restored database's first start: migrate, inspect, fence the old fleet, record the restore. */
async function firstStart(server: EmbeddedServer, manifest: BackupManifest, inspect: Inspect | null): Promise<RestoredFirstStart> {
  const url = new URL(server.url);
  url.pathname = `/${manifest.database}`;
  const db = await Database.open(url.toString(), { size: 2, applicationName: 'keel-restore', connectRetryMs: 10_000 });
  try {
    const restoredSchemaVersion = (await schemaStatus(db)).applied.at(-1)?.version ?? 0;
    await migrate(db);
    if (inspect) await inspect(db, manifest);
    const oldFleet = (await db.query<{ id: string }>(sql('backup/old_fleet'))).rows.map((r) => r.id);
    const reason = `restored from the backup of ${manifest.finishedAt} (recovery point ${manifest.recoveryLsn}): this component belongs to the fleet before the restore; start a new process`;
    const fence = oldFleet.length > 0 ? await fenceComponents(db, { componentIds: oldFleet, hostname: null, reason, actor: 'keel restore' }) : null;
    await db.query(sql('ha/ha_event_insert'), ['restored', null, {
      backupFinishedAt: manifest.finishedAt, recoveryLsn: manifest.recoveryLsn, systemId: manifest.systemId, timeline: manifest.timeline,
      fromSchemaVersion: restoredSchemaVersion, componentsFenced: fence?.components.length ?? 0, attemptsFenced: fence?.attempts.length ?? 0,
    }]);
    return { restoredSchemaVersion, fence };
  } finally {
    await db.close();
  }
}

/**
 * Restores `from` into the new data folder `to` and runs its first start. `inspect` sees
 * the migrated database before the old fleet is fenced. Anything that fails after the
 * checks removes what was written.
 */
export async function restoreBackup(input: RestoreInput, inspect: Inspect | null = null): Promise<RestoreResult> {
  const { manifest, secretKey } = await checkInput(input);
  const to = resolve(input.to);
  const existed = existsSync(to);
  try {
    await placeData(input.from, to, manifest, secretKey);
    const server = await startEmbedded({ dataDir: to, port: await freePort(), create: false });
    try {
      return { dir: to, manifest, ...(await firstStart(server, manifest, inspect)) };
    } finally {
      await server.stop();
    }
  } catch (err) {
    if (!existed) rmSync(to, { recursive: true, force: true });
    else if (statSync(to).isDirectory()) for (const e of readdirSync(to)) rmSync(join(to, e), { recursive: true, force: true });
    throw err;
  }
}
