// The manifest of a Keel backup (manifest.json in the folder `keel backup --to` writes):
// what was backed up, from which server, at which schema, and what it held. Reading it is
// the first check of `keel restore` and `keel backup verify`: a missing, corrupt or newer
// manifest is refused before anything is written. No I/O: test/unit/backup-manifest.test.ts.

export const MANIFEST_FILE = 'manifest.json';
/** The manifest's own format; a newer one is refused like a newer schema. */
export const MANIFEST_FORMAT = 1;

export interface RowCounts {
  dags: number; dag_runs: number; task_instances: number; task_attempts: number; running_attempts: number;
  components: number; ha_events: number; users: number; connections: number;
}

export interface LastRun { id: string; dag_id: string; run_id: string; state: string; created_at: string }

export interface BackupManifest {
  format: number;
  keelVersion: string;
  /** The last migration applied to the backed-up database. */
  schemaVersion: number;
  /** pg_control_system().system_identifier of the backed-up cluster. */
  systemId: string;
  timeline: number;
  database: string;
  serverVersion: string;
  /** 'embedded' (a Keel data folder) or 'server' (a PostgreSQL at databaseUrl). */
  source: 'embedded' | 'server';
  startedAt: string;
  finishedAt: string;
  /** The WAL position the copy is consistent at: the recovery point. */
  recoveryLsn: string;
  /** The newest run and the row counts as of the backup's start (the backup holds at least these). */
  lastRun: LastRun | null;
  counts: RowCounts;
  /** The config file backed up beside the data (secrets redacted), or null. */
  configFile: string | null;
  /** Where the secret key went: 'file' (--secret-key-to), 'not-included' (escrow it yourself) or 'none' (no key configured). */
  secretKey: 'file' | 'not-included' | 'none';
}

const REQUIRED: Record<string, 'string' | 'number' | 'object'> = {
  format: 'number', keelVersion: 'string', schemaVersion: 'number', systemId: 'string', timeline: 'number',
  database: 'string', source: 'string', startedAt: 'string', finishedAt: 'string', counts: 'object',
};

export type ManifestCheck = { ok: true; manifest: BackupManifest } | { ok: false; problem: string };

/**
 * Reads a manifest's text (null: the file is missing) against this Keel's latest schema
 * version. `file` names the manifest in the problem; every problem says the fix.
 */
export function checkManifest(text: string | null, file: string, latestSchema: number): ManifestCheck {
  const notABackup = 'point --from at a folder written by `keel backup --to`, or take a new backup';
  if (text === null) return { ok: false, problem: `${file} is missing: this is not a Keel backup, or an incomplete one; ${notABackup}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `${file} is not valid JSON (${(err as Error).message}): the backup is corrupt; ${notABackup}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, problem: `${file} is not a JSON object: the backup is corrupt; ${notABackup}` };
  const m = parsed as Record<string, unknown>;
  for (const [field, type] of Object.entries(REQUIRED)) {
    if (typeof m[field] !== type || m[field] === null) return { ok: false, problem: `${file}: field "${field}" is missing or not a ${type}: the backup is corrupt; ${notABackup}` };
  }
  if ((m.format as number) > MANIFEST_FORMAT) {
    return { ok: false, problem: `${file}: manifest format ${String(m.format)} is newer than this Keel reads (${MANIFEST_FORMAT}): restore it with the Keel version that took it (${String(m.keelVersion)}) or newer` };
  }
  if ((m.schemaVersion as number) > latestSchema) {
    return { ok: false, problem: `${file}: the backup is at schema version ${String(m.schemaVersion)}, newer than this Keel knows (${latestSchema}): restore it with Keel ${String(m.keelVersion)} or newer` };
  }
  return { ok: true, manifest: m as unknown as BackupManifest };
}

/** Options whose values are secrets: a backed-up config file keeps their names, never their values. */
const SECRET_OPTIONS = new Set(['secretKey']);
const URL_OPTIONS = new Set(['databaseUrl', 'sessionDatabaseUrl', 'readDatabaseUrl', 'redisUrl']);

/** A config file's options with the secret key removed and the passwords in URLs replaced by ***. */
export function redactConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_OPTIONS.has(key)) out[key] = '*** (not in the backup)';
    else if (URL_OPTIONS.has(key) && typeof value === 'string') out[key] = value.replace(/\/\/([^:/@]*):[^@]*@/g, '//$1:***@');
    else out[key] = value;
  }
  return out;
}
