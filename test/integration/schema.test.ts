// src/db/schema.sql is the schema the migrations build: a migration that changes the
// schema without `npm run dump:schema` fails here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dumpSchema, SCHEMA_FILE } from '../../tools/schema-dump.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { directUrlFor } from '../support/db-url.js';

let t: TestDatabase;
before(async () => { t = await freshDatabase(); });
after(async () => { await t?.drop(); });

test('src/db/schema.sql matches the migrated template (npm run dump:schema)', () => {
  assert.equal(dumpSchema(directUrlFor(t.url)), readFileSync(SCHEMA_FILE, 'utf8'), 'src/db/schema.sql is out of date: run `npm run dump:schema`');
});
