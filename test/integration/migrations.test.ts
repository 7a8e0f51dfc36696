// Migrations on brand-new databases (created empty, not from the migrated template): many
// processes migrating at once apply each migration exactly once, a second run applies
// nothing, and a schema newer than this Keel knows is refused without changing anything.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { assertSchemaCurrent, LATEST_SCHEMA_VERSION, loadMigrations, migrate, schemaStatus, SchemaMismatchError } from '../../src/db/migrate.js';
import { Database } from '../../src/db/database.js';
import { sql } from '../../src/db/sql.js';
import { adminUrl } from '../support/db.js';
import { withDatabase } from '../support/db-url.js';

const created: string[] = [];
const pools: Database[] = [];

async function admin(sql: string, params: unknown[] = []): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    await c.query(sql, params);
  } finally {
    await c.end();
  }
}

/** A new, empty database (template0: nothing Keel made is in it) and its URL. */
async function emptyDatabase(): Promise<string> {
  const name = `keel_mig_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name} TEMPLATE template0`);
  created.push(name);
  return withDatabase(adminUrl(), name);
}

function pool(url: string, name: string): Database {
  const p = new Database(url, { size: 2, applicationName: name });
  pools.push(p);
  return p;
}

after(async () => {
  for (const p of pools) await p.close();
  for (const name of created) {
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
    await admin(`DROP DATABASE IF EXISTS ${name}`);
  }
});

async function tables(db: Database): Promise<string[]> {
  const r = await db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`);
  return r.rows.map((x) => x.t);
}

async function migrationRows(db: Database): Promise<{ version: number; name: string }[]> {
  return (await db.query<{ version: number; name: string }>('SELECT version, name FROM keel_migration ORDER BY version')).rows;
}

test('six processes migrating an empty database at once: all succeed, each migration applied once', async () => {
  const url = await emptyDatabase();
  const dbs = Array.from({ length: 6 }, (_v, i) => pool(url, `keel-mig-${i}`));
  assert.deepEqual(await tables(dbs[0]!), [], 'the database starts empty');
  await assert.rejects(assertSchemaCurrent(dbs[0]!), SchemaMismatchError, 'an empty database is not current');

  const applied = await Promise.all(dbs.map((db) => migrate(db)));
  const all = loadMigrations().map((m) => m.version);
  assert.ok(all.length > 0);
  assert.equal(Math.max(...all), LATEST_SCHEMA_VERSION);
  // Exactly one process applied the migrations; the others found them applied.
  const appliers = applied.filter((a) => a.length > 0);
  assert.equal(appliers.length, 1, `one applier, got ${JSON.stringify(applied)}`);
  assert.deepEqual(appliers[0], all);
  assert.deepEqual(await migrationRows(dbs[0]!), loadMigrations().map((m) => ({ version: m.version, name: m.name })));
  for (const db of dbs) await assertSchemaCurrent(db);
  const status = await schemaStatus(dbs[3]!);
  assert.equal(status.pending.length, 0);
  assert.equal(status.applied.at(-1)!.version, LATEST_SCHEMA_VERSION);
  // The schema works: the seeded default pool exists once.
  const pools = await dbs[0]!.query<{ name: string }>('SELECT name FROM pool');
  assert.deepEqual(pools.rows, [{ name: 'default_pool' }]);

  // A second migrate applies nothing and changes nothing.
  const beforeTables = await tables(dbs[0]!);
  assert.deepEqual(await migrate(dbs[5]!), []);
  assert.deepEqual(await tables(dbs[0]!), beforeTables);
  assert.equal((await migrationRows(dbs[0]!)).length, all.length);
});

async function assertRefusesNewer(db: Database): Promise<void> {
  const check = (err: unknown) => {
    assert.ok(err instanceof SchemaMismatchError, `SchemaMismatchError, got ${String(err)}`);
    assert.match(err.message, /9999/, 'names the database version');
    assert.match(err.message, new RegExp(`knows only up to ${LATEST_SCHEMA_VERSION}\\b`), 'names the version this Keel knows');
    return true;
  };
  await assert.rejects(migrate(db), check);
  await assert.rejects(assertSchemaCurrent(db), check);
}

test('a schema newer than this Keel is refused by migrate() and assertSchemaCurrent(), changing nothing', async () => {
  const url = await emptyDatabase();
  const db = pool(url, 'keel-mig-newer');
  await migrate(db);
  await db.query(`INSERT INTO keel_migration (version, name) VALUES (9999, 'from_the_future')`);
  const beforeTables = await tables(db);
  const beforeRows = await migrationRows(db);
  await assertRefusesNewer(db);
  assert.deepEqual(await tables(db), beforeTables);
  assert.deepEqual(await migrationRows(db), beforeRows);
});

test('a database holding only a newer schema marker gets none of the older migrations applied', async () => {
  // Had migrate() not refused, it would create every table of version 1 here.
  const url = await emptyDatabase();
  const db = pool(url, 'keel-mig-marker');
  await db.query(`CREATE TABLE keel_migration (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  await db.query(`INSERT INTO keel_migration (version, name) VALUES (9999, 'from_the_future')`);
  await assertRefusesNewer(db);
  assert.deepEqual(await tables(db), ['keel_migration']);
  assert.deepEqual(await migrationRows(db), [{ version: 9999, name: 'from_the_future' }]);
});

test('two components recording the same new primary at the same moment leave one db_primary_changed event', async () => {
  const url = await emptyDatabase();
  await migrate(pool(url, 'keel-mig-primary'));
  const [a, b] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await a.connect();
  await b.connect();
  try {
    const details = { primary: '7300000000000000001/2/2026-11-26T06:00:00Z', timeline: 2 };
    await a.query('BEGIN');
    await b.query('BEGIN');
    assert.equal((await a.query(sql('ha/ha_event_primary_changed'), [null, details])).rowCount, 1);
    // B cannot see A's uncommitted row; a plain NOT EXISTS check would insert a second one.
    const second = b.query(sql('ha/ha_event_primary_changed'), [null, details]);
    await a.query('COMMIT');
    assert.equal((await second).rowCount, 0);
    await b.query('COMMIT');
    const rows = await a.query(`SELECT 1 FROM ha_event WHERE kind = 'db_primary_changed'`);
    assert.equal(rows.rowCount, 1);
  } finally {
    await a.end();
    await b.end();
  }
});
