// Logs keep the error. Read on the source of src/ with TypeScript's parser (the browser UI,
// src/ui, has no process log and is left out):
//  - no empty catch: a `.catch(() => {})`, `.then(ok, () => {})` or `catch {}` whose body has
//    no statement (a comment is not one). An expected, harmless failure is logged at debug
//    with the reason instead;
//  - a log call never passes an error's `.message` (or `String(err)`) in place of the error:
//    pino's err serializer keeps type, message, stack and properties such as pg's `code`
//    (the SQLSTATE that tells a failover from a lock race);
//  - log objects name ids one way: dagId, runId, taskId, attemptId, componentId, …
// Then the process logger itself is checked to print an error's stack and code, and
// node-postgres's end() to never reject (the reason src/ calls it without a catch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
const LOG_METHODS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
/** Log object keys that name an id some other way, and the key to use. */
const RENAMED_KEYS: Record<string, string> = {
  dag: 'dagId', dag_id: 'dagId', run: 'runId', run_id: 'runId', task: 'taskId', task_id: 'taskId',
  attempt: 'attemptId', attempt_id: 'attemptId', component: 'componentId', component_id: 'componentId',
  trigger: 'triggerId', trigger_id: 'triggerId', taskInstance: 'taskInstanceId', task_instance_id: 'taskInstanceId',
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path === join(SRC, 'ui') ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const unwrap = (e: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e) ? unwrap(e.expression) : e;

const emptyFunction = (e: ts.Expression | undefined): boolean => {
  if (!e) return false;
  const f = unwrap(e);
  return (ts.isArrowFunction(f) || ts.isFunctionExpression(f)) && ts.isBlock(f.body) && f.body.statements.length === 0;
};

const isMessage = (e: ts.Expression): boolean => {
  const v = unwrap(e);
  return ts.isPropertyAccessExpression(v) && v.name.text === 'message';
};

const isStringCall = (e: ts.Expression): boolean => {
  const v = unwrap(e);
  return ts.isCallExpression(v) && ts.isIdentifier(v.expression) && v.expression.text === 'String';
};

const propertyName = (p: ts.ObjectLiteralElementLike): string | null =>
  p.name && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name)) ? p.name.text : null;

interface Findings { silent: string[]; messages: string[]; keys: string[] }

function scan(file: string, text = readFileSync(file, 'utf8')): Findings {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Findings = { silent: [], messages: [], keys: [] };
  const where = (n: ts.Node) => `${relative(ROOT, file)}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  const checkLogObject = (obj: ts.ObjectLiteralExpression, errorsToo: boolean) => {
    for (const p of obj.properties) {
      const name = propertyName(p);
      if (name && RENAMED_KEYS[name]) found.keys.push(`${where(p)}: log key "${name}", use "${RENAMED_KEYS[name]}"`);
      if (!errorsToo || !ts.isPropertyAssignment(p)) continue;
      if (isMessage(p.initializer) || ((name === 'err' || name === 'error') && isStringCall(p.initializer))) {
        found.messages.push(`${where(p)}: ${name ?? 'a value'} is the error's text; pass the error itself: { err }`);
      }
    }
  };
  const visit = (n: ts.Node) => {
    if (ts.isCatchClause(n) && n.block.statements.length === 0) found.silent.push(`${where(n)}: empty catch block`);
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      const method = n.expression.name.text;
      if (method === 'catch' && emptyFunction(n.arguments[0])) found.silent.push(`${where(n)}: .catch with an empty handler`);
      if (method === 'then' && emptyFunction(n.arguments[1])) found.silent.push(`${where(n)}: .then with an empty rejection handler`);
      const first = n.arguments[0] && unwrap(n.arguments[0]);
      if (first && ts.isObjectLiteralExpression(first) && (LOG_METHODS.has(method) || method === 'child')) checkLogObject(first, LOG_METHODS.has(method));
      if (LOG_METHODS.has(method)) {
        for (const a of n.arguments) if (isMessage(a)) found.messages.push(`${where(a)}: the error's .message is logged; pass the error itself: { err }`);
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

const findings = sources(SRC).map((file) => scan(file));

test('src/ swallows no error silently: no empty catch block or handler', () => {
  assert.deepEqual(findings.flatMap((f) => f.silent), []);
});

test('log calls in src/ pass the error object as err, never only its message', () => {
  assert.deepEqual(findings.flatMap((f) => f.messages), []);
});

test('log objects in src/ name ids one way (dagId, runId, taskId, attemptId, componentId, …)', () => {
  assert.deepEqual(findings.flatMap((f) => f.keys), []);
});

test('the scan sees what it looks for', () => {
  const bad = scan('bad.ts', `
    p.catch(() => {});
    p.then(ok, function () { /* ignored */ });
    try { f(); } catch { /* ignored */ }
    try { f(); } catch (e) {}
    log.warn({ err: (err as Error).message }, 'm');
    log.error({ error: String(err), dag: d }, 'm');
    log.info(err.message);
    log.child({ component: 'api' });
    p.catch((err) => log.debug({ err, dagId, count: String(n) }, 'fine'));
    try { f(); } catch { return null; }`);
  assert.equal(bad.silent.length, 4, bad.silent.join('\n'));
  assert.equal(bad.messages.length, 3, bad.messages.join('\n'));
  assert.deepEqual(bad.keys.map((k) => k.replace(/^.*log key /, '')), ['"dag", use "dagId"', '"component", use "componentId"']);
});

test('the process logger prints an error with its type, stack and code (not the client pg-pool attaches), in JSON and pretty', () => {
  const script = `
    import { createLogger } from ${JSON.stringify(join(SRC, 'log.ts'))};
    const err = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', client: { host: 'db' } });
    createLogger({ level: 'info', format: process.argv[1] }).warn({ err }, 'heartbeat failed');`;
  const run = (format: string) => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, format], { cwd: ROOT, encoding: 'utf8' });
  const line = JSON.parse(run('json')) as { msg: string; err: { type: string; message: string; stack: string; code: string } };
  assert.equal(line.msg, 'heartbeat failed');
  assert.equal(line.err.type, 'Error');
  assert.equal(line.err.code, '57P01');
  assert.equal('client' in line.err, false);
  assert.match(line.err.stack, /^Error: terminating connection due to administrator command\n\s+at /);
  const pretty = run('pretty');
  assert.match(pretty, /WARN: heartbeat failed/);
  assert.match(pretty, /"code": "57P01"/);
  assert.match(pretty, /Error: terminating connection due to administrator command\n\s+at /);
});

test("node-postgres's end() never rejects, so src/ ends clients and pools without a catch", async () => {
  // A server that hangs up at once: a connect that fails after the socket opened.
  const server = createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await new pg.Client({ host: '127.0.0.1', port }).end();
    const failed = new pg.Client({ host: '127.0.0.1', port });
    failed.on('error', () => assert.fail('the error goes to connect()'));
    await assert.rejects(failed.connect());
    await failed.end();
    await failed.end();
    const refused = new pg.Client({ host: '127.0.0.1', port: 1 });
    await assert.rejects(refused.connect());
    await refused.end();
    const pool = new pg.Pool({ host: '127.0.0.1', port });
    await assert.rejects(pool.query('SELECT 1'));
    await pool.end();
  } finally {
    server.close();
  }
});
