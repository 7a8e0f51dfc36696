// Numbered, append-only migrations (src/db/migrations/NNNN_name.sql), applied in one
// transaction under a transaction-level advisory lock so that any number of processes
// may start at once. A process refuses a schema newer than the migrations it ships.
import { readdirSync, readFileSync } from 'node:fs';
import type { Database, Queryable } from './database.js';
import { sql } from './sql.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/** Arbitrary constant shared by every Keel process: "keel migrations". */
export const MIGRATION_LOCK_KEY = 7_283_310_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 4)),
      name: file.slice(5, -4),
      sql: readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8'),
    }));
}

export const LATEST_SCHEMA_VERSION = Math.max(0, ...loadMigrations().map((m) => m.version));

export class SchemaMismatchError extends Error {
  override name = 'SchemaMismatchError';
}

export interface SchemaStatus {
  applied: { version: number; name: string; appliedAt: Date }[];
  pending: Migration[];
  known: number;
}

async function appliedVersions(db: Queryable): Promise<SchemaStatus['applied']> {
  const exists = await db.query<{ t: string | null }>(sql('db/migration_table_exists'));
  if (!exists.rows[0]?.t) return [];
  const res = await db.query<{ version: number; name: string; applied_at: Date }>(sql('db/migrations_applied'));
  return res.rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
}

function refuseNewer(applied: SchemaStatus['applied']): void {
  const newest = applied.at(-1);
  if (newest && newest.version > LATEST_SCHEMA_VERSION) {
    throw new SchemaMismatchError(
      `database schema is at version ${newest.version} (${newest.name}) but this Keel knows only up to ${LATEST_SCHEMA_VERSION}; upgrade Keel before running it against this database`,
    );
  }
}

export async function schemaStatus(db: Database): Promise<SchemaStatus> {
  const applied = await appliedVersions(db);
  const done = new Set(applied.map((a) => a.version));
  return { applied, pending: loadMigrations().filter((m) => !done.has(m.version)), known: LATEST_SCHEMA_VERSION };
}

/** Applies pending migrations; returns the versions it applied (empty when up to date). */
export async function migrate(db: Database): Promise<number[]> {
  return db.inTransaction(async (tx) => {
    await tx.query(sql('db/advisory_xact_lock'), [MIGRATION_LOCK_KEY]);
    await tx.query(sql('db/migration_table_create'));
    const applied = await appliedVersions(tx);
    refuseNewer(applied);
    const done = new Set(applied.map((a) => a.version));
    const ran: number[] = [];
    for (const m of loadMigrations()) {
      if (done.has(m.version)) continue;
      await tx.query(m.sql);
      await tx.query(sql('db/migration_record'), [m.version, m.name]);
      ran.push(m.version);
    }
    return ran;
  });
}

/** For roles that must not migrate: fail clearly when the schema is missing or too new. */
export async function assertSchemaCurrent(db: Database): Promise<void> {
  const applied = await appliedVersions(db);
  refuseNewer(applied);
  const newest = applied.at(-1)?.version ?? 0;
  if (newest < LATEST_SCHEMA_VERSION) {
    throw new SchemaMismatchError(`database schema is at version ${newest}, this Keel needs ${LATEST_SCHEMA_VERSION}; run \`keel db migrate\` first`);
  }
}
