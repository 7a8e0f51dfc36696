// The DAG processor on real files and a real database: every way a file can be broken ends
// as an import error naming the reason (and scan() never throws), a broken edit leaves the
// stored DAG untouched, a valid edit makes a new version, a deleted file deactivates its
// DAGs, and a DAG id may belong to one file only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DagProcessor } from '../../src/dag-processor/processor.js';
import { sql } from '../../src/db/sql.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { testLog, waitFor } from '../support/cluster.js';
import { dagSource, tempDags, type TempDags } from '../support/temp-dags.js';

let t: TestDatabase;
const folders: TempDags[] = [];

before(async () => {
  t = await freshDatabase();
});
after(async () => {
  for (const f of folders) f.cleanup();
  await t?.drop();
});

function folder(): TempDags {
  const f = tempDags();
  folders.push(f);
  return f;
}

function processor(dir: string, dagFileTimeoutSec = 30, dagParseConcurrency = 1): DagProcessor {
  return new DagProcessor(t.db, { dagsFolder: dir, dagFileTimeoutSec, dagReparseIntervalSec: 300, dagParseConcurrency }, testLog());
}

async function importError(fileloc: string): Promise<string | null> {
  const r = await t.db.query<{ import_error: string | null }>('SELECT import_error FROM dag_file WHERE fileloc = $1', [fileloc]);
  assert.equal(r.rowCount, 1, `dag_file row for ${fileloc}`);
  return r.rows[0]!.import_error;
}

async function dagRow(dagId: string) {
  const r = await t.db.query<{ dag_id: string; fileloc: string; is_active: boolean; version_hash: string; next_dagrun_at: Date | null; serialized: { tasks: { taskId: string }[] } }>(
    'SELECT dag_id, fileloc, is_active, version_hash, next_dagrun_at, serialized FROM dag WHERE dag_id = $1', [dagId],
  );
  return r.rows[0] ?? null;
}

async function versions(dagId: string): Promise<string[]> {
  return (await t.db.query<{ version_hash: string }>('SELECT version_hash FROM dag_version WHERE dag_id = $1', [dagId])).rows.map((r) => r.version_hash);
}

const good = (id: string, extra = '') => dagSource(`
export default dag({ id: '${id}', schedule: '@hourly', startDate: '2026-01-01', catchup: false }, (d) => {
  const a = d.task('a', () => 1);
  d.task('b', { upstream: a }, () => 2);${extra}
});`);

test('a good file is stored with its version hash, serialized form and next due time', async () => {
  const f = folder();
  f.write('good.ts', good('pg_good'));
  const result = await processor(f.dir).scan();
  assert.deepEqual(result.errors, {});
  assert.deepEqual(result.parsed, ['good.ts']);
  const row = await dagRow('pg_good');
  assert.ok(row, 'DAG stored');
  assert.equal(row.fileloc, 'good.ts');
  assert.equal(row.is_active, true);
  assert.match(row.version_hash, /^[0-9a-f]{16}$/);
  assert.ok(row.next_dagrun_at instanceof Date, 'next_dagrun_at set for a scheduled DAG');
  // catchup false, hourly: the latest complete hour is due, so next_dagrun_at is a whole hour, not in the future.
  assert.equal(row.next_dagrun_at.getTime() % 3_600_000, 0);
  assert.ok(row.next_dagrun_at.getTime() <= Date.now() + 60_000);
  assert.deepEqual(row.serialized.tasks.map((x) => x.taskId), ['a', 'b']);
  assert.deepEqual(await versions('pg_good'), [row.version_hash]);
  assert.equal(await importError('good.ts'), null);
  const file = await t.db.query<{ dag_ids: string[] }>(`SELECT dag_ids FROM dag_file WHERE fileloc = 'good.ts'`);
  assert.deepEqual(file.rows[0]!.dag_ids, ['pg_good']);
});

test('each kind of broken file becomes an import error naming the reason, and scan() does not throw', async () => {
  const f = folder();
  const broken: Record<string, { text: string; reason: RegExp }> = {
    'syntax.ts': {
      text: dagSource(`export default dag({ id: 'pg_syntax' }, (d) => { d.task('a', () => 1 ;`),
      reason: /syntax\.ts:\d+:\d+: ERROR: Expected "\)" but found ";"/,
    },
    'cycle.ts': {
      text: dagSource(`export default dag({ id: 'pg_cycle' }, (d) => {
  d.task('a', { upstream: 'c' }, () => 1);
  d.task('b', { upstream: 'a' }, () => 1);
  d.task('c', { upstream: 'b' }, () => 1);
});`),
      reason: /DAG "pg_cycle": cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/,
    },
    'unknown-upstream.ts': {
      text: dagSource(`export default dag({ id: 'pg_unknown_up' }, (d) => {
  d.task('a', () => 1);
  d.task('b', { upstream: ['a', 'nope'] }, () => 1);
});`),
      reason: /task "b" depends on unknown task "nope"/,
    },
    'dup-task.ts': {
      text: dagSource(`export default dag({ id: 'pg_dup_task' }, (d) => {
  d.task('a', () => 1);
  d.task('a', () => 2);
});`),
      reason: /task id "a" is used by more than one task/,
    },
    'bad-cron.ts': {
      text: dagSource(`export default dag({ id: 'pg_bad_cron', schedule: '61 * * * *' }, (d) => { d.task('a', () => 1); });`),
      reason: /DAG "pg_bad_cron": schedule: invalid cron expression "61 \* \* \* \*"/,
    },
    'bad-param.ts': {
      text: dagSource(`export default dag({ id: 'pg_bad_param', params: { n: param.integer({ default: 'many' as unknown as number }) } }, (d) => { d.task('a', () => 1); });`),
      reason: /param "n": default "many" must be integer/,
    },
    'no-dag.ts': {
      text: `export const notADag = { id: 'x' };\nexport default 42;\n`,
      reason: /exports no DAG/,
    },
    'exits.ts': {
      text: dagSource(`process.exit(0);\nexport default dag({ id: 'pg_exits' }, (d) => { d.task('a', () => 1); });`),
      reason: /ended its loader process \(exit code 0/,
    },
    'throws.ts': {
      text: dagSource(`throw new Error('cannot reach the config service');\nexport default dag({ id: 'pg_throws' }, (d) => { d.task('a', () => 1); });`),
      reason: /cannot reach the config service/,
    },
  };
  for (const [name, { text }] of Object.entries(broken)) f.write(name, text);
  f.write('fine.ts', good('pg_fine'));

  const result = await processor(f.dir).scan();
  assert.deepEqual(Object.keys(result.errors).sort(), Object.keys(broken).sort(), 'every broken file, and only those, reported');
  for (const [name, { reason }] of Object.entries(broken)) {
    const stored = await importError(name);
    assert.ok(stored, `${name}: import error stored`);
    assert.match(stored, reason, `${name}: import error names the reason`);
    assert.equal(result.errors[name], stored);
  }
  // None of the broken DAGs was stored; the good file next to them was.
  const ids = (await t.db.query<{ dag_id: string }>(`SELECT dag_id FROM dag WHERE dag_id LIKE 'pg\\_%' AND dag_id <> 'pg_good' ORDER BY dag_id`)).rows.map((r) => r.dag_id);
  assert.deepEqual(ids, ['pg_fine']);
  assert.equal(await importError('fine.ts'), null);
});

test('a file that hangs at import is cut off at dagFileTimeoutSec and recorded', async () => {
  const f = folder();
  f.write('hangs.ts', dagSource(`while (true) {}\nexport default dag({ id: 'pg_hangs' }, (d) => { d.task('a', () => 1); });`));
  const result = await processor(f.dir, 2).scan();
  assert.match(result.errors['hangs.ts'] ?? '', /longer than 2s \(dagFileTimeoutSec\)/);
  assert.match((await importError('hangs.ts')) ?? '', /longer than 2s/);
  assert.equal(await dagRow('pg_hangs'), null);
});

test('editing a file: a broken edit keeps the stored DAG, a valid edit makes a new version, deleting deactivates', async () => {
  const f = folder();
  const p = processor(f.dir);
  f.write('edit.ts', good('pg_edit'));
  await p.scan();
  const v1 = await dagRow('pg_edit');
  assert.ok(v1);

  // Broken edit: the error is recorded, the stored DAG and its version stay as they were.
  f.write('edit.ts', good('pg_edit', `\n  d.task('c', { upstream: 'missing' }, () => 3);`));
  const r2 = await p.scan();
  assert.match(r2.errors['edit.ts'] ?? '', /task "c" depends on unknown task "missing"/);
  assert.match((await importError('edit.ts')) ?? '', /unknown task "missing"/);
  const afterBroken = await dagRow('pg_edit');
  assert.deepEqual(afterBroken, v1, 'stored DAG row unchanged by a broken edit');
  assert.deepEqual(await versions('pg_edit'), [v1.version_hash]);
  const file = await t.db.query<{ dag_ids: string[] }>(`SELECT dag_ids FROM dag_file WHERE fileloc = 'edit.ts'`);
  assert.deepEqual(file.rows[0]!.dag_ids, ['pg_edit'], 'the file still owns its DAG');

  // Valid edit: a new version hash; the old version stays readable for runs made from it.
  f.write('edit.ts', good('pg_edit', `\n  d.task('c', { upstream: 'b' }, () => 3);`));
  const r3 = await p.scan();
  assert.deepEqual(r3.errors, {});
  assert.equal(await importError('edit.ts'), null, 'import error cleared');
  const v2 = await dagRow('pg_edit');
  assert.ok(v2);
  assert.notEqual(v2.version_hash, v1.version_hash);
  assert.deepEqual(v2.serialized.tasks.map((x) => x.taskId), ['a', 'b', 'c']);
  assert.deepEqual((await versions('pg_edit')).sort(), [v1.version_hash, v2.version_hash].sort());

  // An unchanged file is not parsed again before dagReparseIntervalSec.
  const r4 = await p.scan();
  assert.deepEqual(r4.parsed, []);

  // Deleting the file deactivates its DAG (kept for history) and forgets the file.
  f.remove('edit.ts');
  const r5 = await p.scan();
  assert.deepEqual(r5.deactivated, ['pg_edit']);
  const gone = await dagRow('pg_edit');
  assert.equal(gone?.is_active, false);
  assert.equal((await t.db.query(`SELECT 1 FROM dag_file WHERE fileloc = 'edit.ts'`)).rowCount, 0);
});

test('the same DAG id in a second file is an import error for that file; the first keeps it', async () => {
  const f = folder();
  f.write('a_first.ts', good('pg_twice'));
  f.write('b_second.ts', good('pg_twice', `\n  d.task('c', () => 3);`));
  const result = await processor(f.dir).scan();
  assert.deepEqual(Object.keys(result.errors), ['b_second.ts']);
  assert.match((await importError('b_second.ts')) ?? '', /DAG id "pg_twice" is already defined in a_first\.ts/);
  assert.equal(await importError('a_first.ts'), null);
  const row = await dagRow('pg_twice');
  assert.equal(row?.fileloc, 'a_first.ts');
  assert.deepEqual(row?.serialized.tasks.map((x) => x.taskId), ['a', 'b']);
});

test('two DAGs with the same id in one file are an import error', async () => {
  const f = folder();
  f.write('double.ts', dagSource(`
export const one = dag({ id: 'pg_double' }, (d) => { d.task('a', () => 1); });
export const two = dag({ id: 'pg_double' }, (d) => { d.task('b', () => 1); });`));
  const result = await processor(f.dir).scan();
  assert.match(result.errors['double.ts'] ?? '', /DAG id "pg_double" is defined twice in this file/);
  assert.equal(await dagRow('pg_double'), null);
});

test('renaming a DAG in its file deactivates the old id and stores the new one', async () => {
  const f = folder();
  const p = processor(f.dir);
  f.write('rename.ts', good('pg_old_name'));
  await p.scan();
  assert.equal((await dagRow('pg_old_name'))?.is_active, true);
  f.write('rename.ts', good('pg_new_name'));
  const r = await p.scan();
  assert.deepEqual(r.errors, {});
  assert.equal((await dagRow('pg_old_name'))?.is_active, false);
  assert.equal((await dagRow('pg_new_name'))?.is_active, true);
});

test('moving a DAG to another file: once the old file lets go of the id, the new file takes it over', async () => {
  const f = folder();
  const p = processor(f.dir);
  f.write('a_old_home.ts', good('pg_moving'));
  await p.scan();
  // The new file appears while the old one still defines the DAG: a clash, for now.
  f.write('b_new_home.ts', good('pg_moving', `\n  d.task('c', () => 3);`));
  const clash = await p.scan();
  assert.match(clash.errors['b_new_home.ts'] ?? '', /already defined in a_old_home\.ts/);
  // The old file is deleted: the scan after the one that deactivates its DAG gives the DAG
  // to the new file, without waiting dagReparseIntervalSec (300 s here) to parse the
  // unchanged new file again.
  f.remove('a_old_home.ts');
  await p.scan();
  await p.scan();
  assert.equal(await importError('b_new_home.ts'), null);
  const row = await dagRow('pg_moving');
  assert.equal(row?.is_active, true);
  assert.equal(row?.fileloc, 'b_new_home.ts');
  assert.deepEqual(row?.serialized.tasks.map((x) => x.taskId), ['a', 'b', 'c']);
});

test('two files defining one DAG id, loaded at the same time: exactly one of them gets it', async () => {
  const f = folder();
  f.write('x_one.ts', good('pg_race'));
  f.write('x_two.ts', good('pg_race', `\n  d.task('c', () => 3);`));
  const result = await processor(f.dir, 30, 2).scan();
  assert.equal(Object.keys(result.errors).length, 1, 'one of the two files is an import error');
  const loser = Object.keys(result.errors)[0]!;
  const winner = loser === 'x_one.ts' ? 'x_two.ts' : 'x_one.ts';
  assert.match(result.errors[loser]!, new RegExp(`DAG id "pg_race" is already defined in ${winner.replace('.', '\\.')}`));
  assert.equal((await dagRow('pg_race'))?.fileloc, winner);
});

test('a listing taken before another processor parsed a file does not deactivate that file\'s DAG', async () => {
  const f = folder();
  f.write('late.ts', good('pg_late'));
  const before = (await t.db.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  await processor(f.dir).scan(); // "another processor" stores late.ts after `before`
  // A processor whose listing (taken at `before`) did not have the file yet; every other file of this database is in it.
  const others = (await t.db.query<{ fileloc: string }>(`SELECT fileloc FROM dag_file WHERE fileloc <> 'late.ts'`)).rows.map((r) => r.fileloc);
  const gone = await t.db.query(sql('dag-processor/dag_file_delete_missing'), [others, before]);
  assert.equal(gone.rowCount, 0);
  assert.equal((await dagRow('pg_late'))?.is_active, true);
  assert.equal((await t.db.query(`SELECT 1 FROM dag_file WHERE fileloc = 'late.ts'`)).rowCount, 1);
  // A listing taken after the parse that misses the file does deactivate it.
  const now = (await t.db.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
  const gone2 = await t.db.query<{ dag_id: string }>(sql('dag-processor/dag_file_delete_missing'), [others, now]);
  assert.deepEqual(gone2.rows.map((r) => r.dag_id), ['pg_late']);
});

test('a processor that lost the lease of a file while loading it stores nothing (the new holder does)', async () => {
  const f = folder();
  f.write('slow.mts', dagSource(`await new Promise((r) => setTimeout(r, 1500));
export default dag({ id: 'pg_slow' }, (d) => { d.task('a', () => 1); });`));
  const me = randomUUID();
  const p = new DagProcessor(t.db, { dagsFolder: f.dir, dagFileTimeoutSec: 30, dagReparseIntervalSec: 300, componentId: me, dbOutageGraceSec: 0 }, testLog());
  const scanning = p.scan();
  await waitFor('the lease of slow.mts', async () => (await t.db.query(`SELECT 1 FROM dag_file_lease WHERE fileloc = 'slow.mts' AND holder_id = $1`, [me])).rowCount, 5000, 20);
  // While it loads, the lease moves to another processor (this one froze past the expiry).
  await t.db.query(`UPDATE dag_file_lease SET holder_id = $1 WHERE fileloc = 'slow.mts'`, [randomUUID()]);
  const result = await scanning;
  assert.deepEqual(result.parsed, [], 'not reported as parsed');
  assert.equal(await dagRow('pg_slow'), null, 'the DAG was not stored');
  assert.equal((await t.db.query(`SELECT 1 FROM dag_file WHERE fileloc = 'slow.mts'`)).rowCount, 0, 'nor the file');
  assert.equal(p.heldCount, 0, 'it knows it lost the file');
});
