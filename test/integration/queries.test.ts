// Every statement of src/db/queries/ against the migrated schema: PREPARE parses it and
// resolves its tables, columns, functions and parameter types without running it, as the
// server does for the product's own parameterised calls. Statements PREPARE does not take
// (LISTEN, CREATE TABLE IF NOT EXISTS) run on this file's own database instead, first, so
// that statements on a table one of them creates (the chaos ledger) prepare too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { queryNames, queryText } from '../../tools/query-files.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { directUrlFor } from '../support/db-url.js';

const PREPARABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES)\b/;
const body = (text: string) => text.split('\n').filter((l) => !l.startsWith('--')).join('\n');

let t: TestDatabase;
let client: pg.Client;
before(async () => {
  t = await freshDatabase();
  // Direct, not through PgBouncer: PREPARE and DEALLOCATE need one session.
  client = new pg.Client({ connectionString: directUrlFor(t.url) });
  await client.connect();
});
after(async () => {
  await client?.end();
  await t?.drop();
});

const statements = queryNames().map((name) => ({ name, text: queryText(name) }));

test('the statements PREPARE does not take run on the migrated schema', async (s) => {
  const others = statements.filter((q) => !PREPARABLE.test(body(q.text)));
  assert.ok(others.length > 0);
  for (const q of others) await s.test(q.name, async () => { await client.query(q.text); });
});

test('every other statement prepares on the migrated schema', async (s) => {
  for (const q of statements.filter((x) => PREPARABLE.test(body(x.text)))) {
    await s.test(q.name, async () => {
      await client.query(`PREPARE q AS ${q.text}`);
      await client.query('DEALLOCATE q');
    });
  }
});
