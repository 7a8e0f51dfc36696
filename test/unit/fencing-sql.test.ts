// The fencing rules, checked on the SQL text itself (no database): every statement under
// src/db/queries/ (subfolders included) is read, and
//  - an UPDATE of task_instance that may touch a running row carries the attempt id: a
//    condition `attempt_id = $n` / `attempt_id = ANY ($n)`, or a join on attempt ids the
//    caller holds (`unnest($n) AS k (attempt_id, …)`) or that the statement itself locked
//    (a FOR UPDATE CTE). It may touch no running row when its WHERE requires a state other
//    than running, or its rows come from a FOR UPDATE CTE over task_instance that does;
//  - an UPDATE of task_attempt carries the attempt id, always;
//  - a statement that judges running attempts lost (lease compared with now(), heartbeat
//    age, session lock absence in pg_locks), and one that marks components dead, calls
//    keel_fencing_allowed(), the outage grace.
// Rules: src/fencing/INVARIANTS.md; docs/decisions/0001-attempt-ids-are-fencing-tokens.md,
// 0003-no-fencing-during-a-disruption.md. The reading is textual and deliberately narrow:
// a statement it cannot read fails, it is never waved through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const QUERIES = fileURLToPath(new URL('../../src/db/queries/', import.meta.url));
const MIGRATIONS = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));

/**
 * Statements that may break a rule above, by file name (without .sql, in any subfolder),
 * each with the reason it is right. Reviewed: add an entry only with a reason that holds
 * for every row the statement can touch. An entry that matches no file, or a file that no
 * longer breaks a rule, fails the test.
 */
const ALLOWED: Record<string, string> = {};

// ---- reading SQL text ----

/** Comments removed, whitespace collapsed, lower case; string literals kept. */
function normalize(sqlText: string): string {
  let out = '';
  for (let i = 0; i < sqlText.length;) {
    if (sqlText[i] === "'") {
      let j = i + 1;
      while (j < sqlText.length && !(sqlText[j] === "'" && sqlText[j + 1] !== "'")) j += sqlText[j] === "'" ? 2 : 1;
      out += sqlText.slice(i, j + 1);
      i = j + 1;
    } else if (sqlText.startsWith('--', i)) {
      const end = sqlText.indexOf('\n', i);
      i = end < 0 ? sqlText.length : end;
    } else if (sqlText.startsWith('/*', i)) {
      const end = sqlText.indexOf('*/', i + 2);
      i = end < 0 ? sqlText.length : end + 2;
    } else {
      out += sqlText[i];
      i++;
    }
  }
  return out.replace(/\s+/g, ' ').replace(/\( /g, '(').replace(/ \)/g, ')').trim().toLowerCase();
}

/** Paren depth before each character, string literals skipped. */
function depths(text: string): number[] {
  const d: number[] = [];
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    d.push(depth);
    if (c === "'") inString = !inString;
    else if (!inString && c === '(') depth++;
    else if (!inString && c === ')') depth--;
  }
  return d;
}

/** Matches of re outside any parentheses of text. */
function topLevel(text: string, re: RegExp): RegExpExecArray[] {
  const d = depths(text);
  return [...text.matchAll(new RegExp(re.source, 'g'))].filter((m) => d[m.index] === 0);
}

function splitTop(text: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let from = 0;
  for (const m of topLevel(text, sep)) {
    parts.push(text.slice(from, m.index));
    from = m.index + m[0].length;
  }
  parts.push(text.slice(from));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The text of the parenthesised expression that opens at `open`, without its parentheses. */
function inParens(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** A clause from its keyword to the next of `ends` at the same level (or the end). */
function clause(text: string, keyword: RegExp, ends: RegExp): string | null {
  const start = topLevel(text, keyword)[0];
  if (!start) return null;
  const rest = text.slice(start.index + start[0].length);
  const end = topLevel(rest, ends)[0];
  return (end ? rest.slice(0, end.index) : rest).trim();
}

/** AND-ed conditions of a WHERE clause; none when it has a top-level OR (no single condition then binds every row). */
function conjuncts(where: string | null): string[] {
  if (!where) return [];
  let w = where.trim();
  while (w.startsWith('(') && inParens(w, 0).length === w.length - 2) w = w.slice(1, -1).trim();
  if (topLevel(w, /\bor\b/).length) return [];
  return splitTop(w, /\band\b/);
}

/** Common table expressions of a statement: name → body. */
function ctes(statement: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of topLevel(statement, /(?:\bwith |, ?)(\w+) as \(/)) out.set(m[1]!, inParens(statement, m.index + m[0].length - 1));
  return out;
}

const STATE_OF = /^(?:(\w+)\.)?state (=|<>|!=|in) ?(.*)$/;

/** Whether this condition, on a row of `names`, excludes the running state. */
function excludesRunning(cond: string, names: string[]): boolean {
  const m = STATE_OF.exec(cond);
  if (!m || (m[1] && !names.includes(m[1]))) return false;
  const [, , op, rhs] = m;
  if (op === '=') return /^'\w+'$/.test(rhs!) && rhs !== "'running'";
  if (op === 'in') return /^\(('\w+', ?)*'\w+'\)$/.test(rhs!) && !rhs!.includes("'running'");
  return rhs === "'running'";
}

interface Target { table: string; alias: string | null; set: string; from: string | null; where: string | null }

/** Each UPDATE of `table` in a statement (in CTEs too), split into its clauses; null where it could not be read. */
function updatesOf(statement: string, table: string): (Target | null)[] {
  const out: (Target | null)[] = [];
  const d = depths(statement);
  for (const m of statement.matchAll(new RegExp(`\\bupdate ${table}\\b`, 'g'))) {
    // To the end of the statement, or of the CTE whose parentheses hold this UPDATE.
    let end = m.index;
    while (end < statement.length && !((statement[end] === ')' || statement[end] === ';') && d[end] === d[m.index])) end++;
    const body = statement.slice(m.index, end).trim();
    const head = new RegExp(`^update ${table}(?: (?:as )?(?!set\\b)(\\w+))? set `).exec(body);
    if (!head) {
      out.push(null);
      continue;
    }
    const rest = body.slice(head[0].length - 'set '.length);
    out.push({
      table, alias: head[1] ?? null,
      set: clause(rest, /^set /, / from | where | returning /) ?? '',
      from: clause(rest, / from /, / where | returning /),
      where: clause(rest, / where /, / returning /),
    });
  }
  return out;
}

/** FROM items of an UPDATE: alias → what it reads (a table or CTE name, or the unnest(...) call). */
function fromItems(from: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of splitTop(from ?? '', /,/)) {
    const m = /^(unnest ?\(.*?\)|\w+)(?: (?:as )?(\w+)(?: ?\((.*)\))?)?$/.exec(item);
    if (!m) continue;
    const source = m[3] ? `${m[1]} (${m[3]})` : m[1]!;
    out.set(m[2] ?? m[1]!, source);
  }
  return out;
}

/** Whether a condition ties the target's rows to attempt ids the caller holds or the statement locked. */
function carriesAttemptId(cond: string, t: Target, statementCtes: Map<string, string>): boolean {
  const names = [t.alias ?? t.table, t.table];
  const param = /^(?:(\w+)\.)?attempt_id = (?:any ?\()?\$\d+/.exec(cond);
  if (param) return !param[1] || names.includes(param[1]);
  const join = /^(?:(\w+)\.)?attempt_id = (?:(\w+)\.)?attempt_id$/.exec(cond);
  if (!join) return false;
  const sources = fromItems(t.from);
  const heldIds = (alias: string | undefined): boolean => {
    const source = alias === undefined ? undefined : sources.get(alias);
    if (source === undefined) return false;
    if (/^unnest ?\(\$\d+.*\) \(attempt_id\b/.test(source)) return true; // the caller's attempt ids
    const cte = statementCtes.get(source);
    return cte !== undefined && / for update\b/.test(cte); // rows this statement locked, with their attempt ids
  };
  const own = (alias: string | undefined): boolean => alias === undefined || names.includes(alias);
  return (own(join[1]) && heldIds(join[2])) || (own(join[2]) && heldIds(join[1]));
}

/** Whether the target's rows come from a FOR UPDATE CTE over task_instance that excludes running rows. */
function fromLockedNonRunning(cond: string, t: Target, statementCtes: Map<string, string>): boolean {
  const m = /^(?:(\w+)\.)?id = (\w+)\.id$/.exec(cond);
  if (!m || (m[1] && ![t.alias ?? t.table, t.table].includes(m[1]))) return false;
  const cte = statementCtes.get(fromItems(t.from).get(m[2]!) ?? '');
  if (!cte || !/ for update\b/.test(cte)) return false;
  const src = /^select .*? from task_instance(?: (?:as )?(?!where\b)(\w+))? where /.exec(cte);
  if (!src) return false;
  const where = clause(cte, / where /, / order by | group by | limit | for update | for no key update /);
  return conjuncts(where).some((c) => excludesRunning(c, [src[1] ?? 'task_instance', 'task_instance']));
}

/** What is wrong with one statement, by the rules above. */
function violations(text: string): string[] {
  const s = normalize(text);
  const found: string[] = [];
  const statementCtes = ctes(s);
  for (const t of updatesOf(s, 'task_instance')) {
    if (!t) {
      found.push('an UPDATE task_instance this check cannot read');
      continue;
    }
    const conds = conjuncts(t.where);
    const ok = conds.some((c) => carriesAttemptId(c, t, statementCtes) || excludesRunning(c, [t.alias ?? t.table, t.table]) || fromLockedNonRunning(c, t, statementCtes));
    if (!ok) found.push(`UPDATE task_instance may write a running row without its attempt id (SET ${t.set.slice(0, 60)}…)`);
  }
  for (const t of updatesOf(s, 'task_attempt')) {
    if (!t) found.push('an UPDATE task_attempt this check cannot read');
    else if (!conjuncts(t.where).some((c) => carriesAttemptId(c, t, statementCtes))) found.push('UPDATE task_attempt without the attempt id');
  }
  const judgesLost = /\btask_instance\b/.test(s) && s.includes("'running'")
    && (/lease_expires_at <=? now\(\)|now\(\) >=? (?:\w+\.)?lease_expires_at|last_heartbeat_at <=? now\(\)|\bpg_locks\b/.test(s));
  const marksDead = updatesOf(s, 'component').some((t) => t === null || splitTop(t.set, /,/).some((a) => /^state = 'dead'$/.test(a)));
  if ((judgesLost || marksDead) && !/\bkeel_fencing_allowed ?\(/.test(s)) {
    found.push(`${marksDead ? 'marks components dead' : 'judges running attempts lost'} without keel_fencing_allowed() (the outage grace)`);
  }
  return found;
}

function queryFiles(): { name: string; path: string; shown: string }[] {
  return readdirSync(QUERIES, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ name: basename(f, '.sql'), path: join(QUERIES, f), shown: join('src/db/queries', f) }));
}

// ---- the rules on the real statements ----

test('every statement under src/db/queries keeps the fencing rules (or is allowed, with its reason)', () => {
  const files = queryFiles();
  assert.ok(files.length > 20, `statements found under ${QUERIES}`);
  const broken: string[] = [];
  const allowedUsed = new Set<string>();
  for (const f of files) {
    const v = violations(readFileSync(f.path, 'utf8'));
    if (v.length === 0) continue;
    if (f.name in ALLOWED) allowedUsed.add(f.name);
    else broken.push(`${f.shown}: ${v.join('; ')}`);
  }
  assert.deepEqual(broken, [], 'statements that break a fencing rule (src/fencing/INVARIANTS.md)');
  const stale = Object.keys(ALLOWED).filter((name) => !allowedUsed.has(name));
  assert.deepEqual(stale, [], 'allow-list entries that match no statement breaking a rule: remove them');
});

test('the statements the fencing rules rest on are among those checked', () => {
  const names = new Set(queryFiles().map((f) => f.name));
  for (const name of ['task_instances_claim', 'task_instance_end_attempt', 'task_instances_renew_leases', 'task_instances_hand_back',
    'task_instance_defer', 'task_attempt_end', 'task_instances_lock_expired', 'task_instances_lock_orphaned', 'component_mark_dead']) {
    assert.ok(names.has(name), `${name}.sql exists`);
  }
});

test('keel_fencing_allowed(), as last defined by the migrations, checks the disruption, the server start and the timeline', () => {
  let definition: string | null = null;
  for (const f of readdirSync(MIGRATIONS).filter((x) => x.endsWith('.sql')).sort()) {
    const text = normalize(readFileSync(join(MIGRATIONS, f), 'utf8'));
    const at = text.search(/create (?:or replace )?function keel_fencing_allowed\b/);
    if (at >= 0) definition = text.slice(at, text.indexOf('$$', text.indexOf('$$', at) + 2));
  }
  assert.ok(definition, 'a migration defines keel_fencing_allowed()');
  for (const part of ['last_disruption_at <', 'pg_postmaster_start_time() <', 'keel_current_timeline()']) assert.ok(definition.includes(part), `it checks ${part}`);
});

// ---- the check itself can fail ----

test('the check flags state changes without the attempt id', () => {
  const bad = [
    `UPDATE task_instance SET state = 'failed' WHERE id = $1`,
    `UPDATE task_instance SET state = 'failed' WHERE id = $1 AND attempt_id = $2 OR dag_run_id = $3`,
    `UPDATE task_instance SET state = 'failed' WHERE dag_run_id = $1 AND state IN ('queued', 'running')`,
    `UPDATE task_instance t SET state = 'queued' FROM task_instance x WHERE t.id = x.id AND x.state = 'queued'`,
    `UPDATE task_instance t SET result = $2 FROM other o WHERE o.attempt_id = $1 AND t.id = o.id`,
    `WITH c AS (SELECT id FROM task_instance WHERE state = 'queued' LIMIT 5) UPDATE task_instance t SET state = 'running' FROM c WHERE t.id = c.id`,
    `UPDATE task_attempt SET state = 'fenced' WHERE task_instance_id = $1`,
    `UPDATE task_attempt a SET log = k.log FROM unnest($1::bigint[], $2::text[]) AS k (id, log) WHERE a.task_instance_id = k.id`,
  ];
  for (const statement of bad) assert.notDeepEqual(violations(statement), [], statement);
});

test('the check flags fencing and dead-marking without the outage grace', () => {
  const bad = [
    `SELECT t.id FROM task_instance t WHERE t.state = 'running' AND t.lease_expires_at < now() FOR UPDATE OF t SKIP LOCKED`,
    `SELECT t.id FROM task_instance t JOIN component c ON c.id = t.worker_id WHERE t.state = 'running' AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.objid = c.lock_key::oid)`,
    `UPDATE task_instance SET state = 'up_for_retry' WHERE attempt_id = $1 AND state = 'running' AND lease_expires_at < now()`,
    `UPDATE component SET state = 'dead' WHERE last_heartbeat_at < now() - interval '5 seconds'`,
  ];
  for (const statement of bad) assert.notDeepEqual(violations(statement), [], statement);
});

test('the check passes the shapes the rules allow', () => {
  const good = [
    `UPDATE task_instance SET state = 'queued' WHERE id = ANY ($1::bigint[]) AND state = 'scheduled' -- a comment: state = 'running'`,
    `UPDATE task_instance t SET state = 'pending' WHERE t.dag_run_id = $1 AND t.state IN ('success', 'failed')`,
    `UPDATE task_instance SET lease_expires_at = now() WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'`,
    `WITH l AS (SELECT id, attempt_id FROM task_instance WHERE state = 'running' FOR UPDATE) UPDATE task_instance t SET state = 'failed' FROM l WHERE t.id = l.id AND t.attempt_id = l.attempt_id`,
    `UPDATE task_attempt a SET log = k.log FROM unnest($1::uuid[], $2::text[]) AS k (attempt_id, log) WHERE a.attempt_id = k.attempt_id AND a.state = 'running'`,
    `SELECT t.id FROM task_instance t WHERE t.state = 'running' AND t.lease_expires_at < now() AND keel_fencing_allowed($2::float8)`,
  ];
  for (const statement of good) assert.deepEqual(violations(statement), [], statement);
});
