// `keel backup --to DIR`: a consistent physical copy of Keel's database (pg_basebackup with
// the WAL to make it consistent on its own), Keel's config file with its secrets redacted,
// and manifest.json, written last: a folder without it is an incomplete backup. The secret
// key is never copied beside the data it protects: --secret-key-to writes it to a file of
// its own (0600), else the caller says that it must be escrowed. docs/disaster-recovery.md.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, MANIFEST_FORMAT, redactConfig, type BackupManifest, type LastRun, type RowCounts } from '../core/backup-manifest.js';
import type { Database } from '../db/database.js';
import { schemaStatus } from '../db/migrate.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import { readSecretFile } from '../secrets/secret-file.js';
import { KEEL_VERSION } from '../version.js';
import { majorOf, pgTool, runTool } from './pg-tools.js';

export const DATA_SUBDIR = 'pgdata';
export const CONFIG_COPY = 'keel.config.json';

export interface BackupInput {
  /** The database's URL (the embedded server's, or databaseUrl). */
  url: string;
  source: BackupManifest['source'];
  to: string;
  /** The config file in effect, or null when none. */
  configFile: string | null;
  /** The secret key in effect (secretKey, or the embedded <dataDir>/secret-key), or undefined. */
  secretKey: string | undefined;
  secretKeyTo?: string;
}

export interface BackupResult { dir: string; manifest: BackupManifest; secretKeyFile: string | null; recoveryLsn: string }

/** A folder that does not exist or is empty; anything else is refused before anything is written. */
export function refuseNonEmpty(dir: string, flag: string, what: string): void {
  if (!existsSync(dir)) return;
  const entries = readdirSync(dir);
  if (entries.length > 0) {
    throw new UsageError(`${flag} ${dir} is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): ${what} into a new or empty folder; nothing was written`);
  }
}

/** The URL without its password, which goes to the program in PGPASSWORD (never on a command line others can read). */
function splitPassword(url: string): { url: string; password: string | undefined } {
  const m = /^([a-z]+:\/\/[^:/@]*):([^@/]*)@/.exec(url);
  if (!m) return { url, password: undefined };
  return { url: url.replace(`${m[1]}:${m[2]}@`, `${m[1]}@`), password: decodeURIComponent(m[2]!) };
}

/** The last WAL position the copy needs (pg_basebackup's backup_manifest): its recovery point. */
function recoveryLsnOf(pgdata: string): string {
  const manifest = JSON.parse(readFileSync(join(pgdata, 'backup_manifest'), 'utf8')) as { 'WAL-Ranges'?: { 'End-LSN': string }[] };
  return manifest['WAL-Ranges']?.at(-1)?.['End-LSN'] ?? 'unknown';
}

export async function takeBackup(db: Database, input: BackupInput): Promise<BackupResult> {
  const dir = resolve(input.to);
  refuseNonEmpty(dir, '--to', 'back up');
  const keyFile = input.secretKeyTo ? resolve(input.secretKeyTo) : null;
  if (keyFile && existsSync(keyFile)) throw new UsageError(`--secret-key-to ${keyFile} exists: name a new file (an existing key is never overwritten); nothing was written`);
  if (keyFile && !input.secretKey) throw new UsageError('--secret-key-to: no secret key is configured (secretKey, KEEL_SECRET_KEY, or the embedded <dataDir>/secret-key): there is nothing to write; nothing was written');
  if (keyFile && keyFile.startsWith(`${dir}/`)) throw new UsageError(`--secret-key-to ${keyFile} is inside the backup folder ${dir}: the key must be kept apart from the data it protects; name a file elsewhere`);
  const source = (await db.query<{ system_id: string; timeline: number; database: string; server_version: string; at: Date }>(sql('backup/backup_source'))).rows[0]!;
  const status = await schemaStatus(db);
  const counts = (await db.query<RowCounts>(sql('backup/row_counts'))).rows[0]!;
  const last = (await db.query<Omit<LastRun, 'created_at'> & { created_at: Date }>(sql('backup/last_run'))).rows[0];
  const createdDir = !existsSync(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    // The copy holds every password hash and connection of the database: owner-only.
    chmodSync(dir, 0o700);
    const { url, password } = splitPassword(input.url);
    const pgdata = join(dir, DATA_SUBDIR);
    const run = await runTool(pgTool('pg_basebackup', majorOf(source.server_version)), [
      '--dbname', url, '--pgdata', pgdata, '--wal-method=stream', '--checkpoint=fast', '--manifest-checksums=SHA256', '--no-password',
    ], password === undefined ? {} : { PGPASSWORD: password });
    if (run.code !== 0) {
      const hint = /no pg_hba\.conf entry for replication/.test(run.output)
        ? 'the server does not let this user replicate: on the embedded database restart `keel standalone` (each start allows its superuser); on a server, add a `host replication` line to pg_hba.conf for the user of KEEL_DATABASE_URL and give it the REPLICATION attribute'
        : 'see the message above';
      throw new Error(`pg_basebackup failed (exit ${run.code}): ${run.output}; ${hint}`);
    }
    const recoveryLsn = recoveryLsnOf(pgdata);
    let configCopy: string | null = null;
    if (input.configFile && existsSync(input.configFile)) {
      const config = JSON.parse(readFileSync(input.configFile, 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, CONFIG_COPY), `${JSON.stringify(redactConfig(config), null, 2)}\n`, { mode: 0o600 });
      configCopy = CONFIG_COPY;
    }
    if (keyFile) writeFileSync(keyFile, `${input.secretKey}\n`, { mode: 0o600, flag: 'wx' });
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT, keelVersion: KEEL_VERSION, schemaVersion: status.applied.at(-1)?.version ?? 0,
      systemId: source.system_id, timeline: source.timeline, database: source.database, serverVersion: source.server_version,
      source: input.source, startedAt: source.at.toISOString(), finishedAt: new Date().toISOString(), recoveryLsn,
      lastRun: last ? { ...last, created_at: last.created_at.toISOString() } : null, counts,
      configFile: configCopy, secretKey: keyFile ? 'file' : input.secretKey ? 'not-included' : 'none',
    };
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await db.query(sql('backup/backup_record'), [source.at, dir, manifest]);
    return { dir, manifest, secretKeyFile: keyFile, recoveryLsn };
  } catch (err) {
    // A half-written backup must not pass for one: the folder goes (it was new or empty).
    if (createdDir) rmSync(dir, { recursive: true, force: true });
    else for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
    throw err;
  }
}

/** The secret key of the embedded data folder, or null. */
export function embeddedSecretKey(dataDir: string): string | null {
  return readSecretFile(join(dataDir, 'secret-key'));
}
