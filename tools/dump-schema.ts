// `npm run dump:schema`: migrates a new database on a throwaway embedded PostgreSQL and
// writes its schema to src/db/schema.sql (see schema-dump.ts). Run it after adding a migration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Database } from '../src/db/database.js';
import { startEmbedded } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { withDatabase } from '../src/db/url.js';
import { freePort } from '../src/free-port.js';
import { dumpSchema, SCHEMA_FILE } from './schema-dump.js';

const dataDir = mkdtempSync(join(tmpdir(), 'keel-schema-'));
const server = await startEmbedded({ dataDir, port: await freePort(), durable: false });
try {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('CREATE DATABASE keel_schema');
  await admin.end();
  const url = withDatabase(server.url, 'keel_schema');
  const db = new Database(url, { size: 1, applicationName: 'keel-dump-schema' });
  await migrate(db);
  await db.close();
  writeFileSync(SCHEMA_FILE, dumpSchema(url));
  console.log(`${SCHEMA_FILE} written`);
} finally {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
