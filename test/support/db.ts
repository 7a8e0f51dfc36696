// A fresh, migrated database per test file, cloned from the template the runner made.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Database } from '../../src/db/database.js';
import { TEMPLATE_DB, pooledUrlFor, withDatabase } from './db-url.js';

export interface TestDatabase {
  url: string;
  db: Database;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.KEEL_TEST_ADMIN_URL;
  if (!url) throw new Error('KEEL_TEST_ADMIN_URL is not set: run integration tests through `npm test` (test/run.ts)');
  return url;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `keel_t_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`));
  // Through PgBouncer in CI's second pass: pools use the pooled URL; admin stays direct.
  const url = pooledUrlFor(withDatabase(adminUrl(), name));
  const db = new Database(url, { size: 5, applicationName: 'keel-test' });
  return {
    url,
    db,
    drop: async () => {
      await db.close();
      await admin(async (c) => {
        await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      });
    },
  };
}
