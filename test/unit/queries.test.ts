// The SQL convention, checked without a database: every statement the product runs is a
// file src/db/queries/<area>/<name>.sql loaded with sql('<area>/<name>'), the generated
// name union is current, every file is used and every name has a file, and each header
// documents the parameters its statement uses. test/integration/queries.test.ts PREPAREs
// every statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUERIES_DIR, QUERY_NAMES_FILE, parameterNumbers, queryNames, queryNamesSource, queryText, splitHeader } from '../../tools/query-files.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
// The browser UI runs no SQL.
const NOT_SCANNED = new Set(['ui']);
// The statements that stay in code, each with the reason.
const IN_CODE = [
  // Transaction control, in the Database's transaction helpers (BEGIN with its SET LOCAL limits is built there too).
  { path: join('db', 'database.ts'), statement: /^\.query\('(COMMIT|ROLLBACK|SAVEPOINT \w+|ROLLBACK TO SAVEPOINT \w+)'\)/ },
  // ALTER ROLE takes no bind parameter: the new password is quoted with escapeLiteral.
  { path: join('db', 'embedded-auth.ts'), statement: /^\.query\(`ALTER ROLE \$\{SUPERUSER\} PASSWORD \$\{client\.escapeLiteral\(/ },
];

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    if (NOT_SCANNED.has(relative(SRC, path))) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return f.endsWith('.ts') ? [path] : [];
  });
}
// Comment lines are left out: they may quote a statement or a sql('name') they do not run.
const code = (text: string) => text.split('\n').filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l)).join('\n');
const product = sources().map((path) => ({ path: relative(SRC, path), text: code(readFileSync(path, 'utf8')) }));

test('src/db/query-names.ts is up to date (npm run gen:queries)', () => {
  assert.equal(readFileSync(QUERY_NAMES_FILE, 'utf8'), queryNamesSource(queryNames()), 'run `npm run gen:queries`');
});

test('src/db/queries/ holds one folder per area and only statement files in them', () => {
  const odd = readdirSync(QUERIES_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => !/^[a-z-]+$/.test(f) && !/^[a-z-]+\/[a-z0-9_]+\.sql$/.test(f.split(sep).join('/')));
  assert.deepEqual(odd, [], 'src/db/queries/<area>/<name>.sql');
});

test('every statement file is used by the product, and every sql() name has a file', () => {
  const used = new Set<string>();
  const dynamic: string[] = [];
  for (const { path, text } of product) {
    for (const m of text.matchAll(/\bsql\(([^)]*)\)/g)) {
      const literal = /^\s*'([^']+)'\s*$/.exec(m[1]!);
      if (literal) used.add(literal[1]!);
      else if (!(path === join('db', 'sql.ts') && m[1]!.startsWith('name:'))) dynamic.push(`${path}: sql(${m[1]})`);
    }
  }
  assert.deepEqual(dynamic, [], 'sql() takes a literal name, so this test sees every use');
  const files = new Set(queryNames());
  assert.deepEqual([...files].filter((n) => !used.has(n)), [], 'statement files nothing in src/ uses');
  assert.deepEqual([...used].filter((n) => !files.has(n)), [], 'sql() names without a file');
});

test('no statement is written inline in src/ (it belongs in src/db/queries/)', () => {
  const inline: string[] = [];
  for (const { path, text } of product) {
    for (const m of text.matchAll(/\.query(?:<[^()]*?>)?\(\s*[`'"]/g)) {
      const at = text.slice(m.index).split('\n')[0]!;
      if (!IN_CODE.some((c) => c.path === path && c.statement.test(at))) inline.push(`${path}: ${at.slice(0, 80)}`);
    }
    for (const m of text.matchAll(/[`'"]\s*(?:SELECT|INSERT INTO|DELETE FROM|UPDATE \w+ SET|WITH \w+ AS|CREATE TABLE)\s/g)) {
      inline.push(`${path}: ${text.slice(m.index, m.index + 60).split('\n')[0]}`);
    }
  }
  assert.deepEqual(inline, []);
});

test('each header documents every $N its statement uses, or says "No parameters."', () => {
  const problems: string[] = [];
  for (const name of queryNames()) {
    const { header, body } = splitHeader(queryText(name));
    if (!header) problems.push(`${name}: no header comment`);
    const used = parameterNumbers(body);
    const documented = parameterNumbers(header);
    if (used.length === 0 && !header.includes('No parameters.')) problems.push(`${name}: uses no parameter but its header does not say "No parameters."`);
    if (used.length > 0 && header.includes('No parameters.')) problems.push(`${name}: says "No parameters." but uses ${used.map((n) => `$${n}`).join(', ')}`);
    const undocumented = used.filter((n) => !documented.includes(n));
    if (undocumented.length) problems.push(`${name}: header does not document ${undocumented.map((n) => `$${n}`).join(', ')}`);
    const stale = documented.filter((n) => !used.includes(n));
    if (stale.length) problems.push(`${name}: header documents ${stale.map((n) => `$${n}`).join(', ')}, which the statement does not use`);
  }
  assert.deepEqual(problems, []);
});
