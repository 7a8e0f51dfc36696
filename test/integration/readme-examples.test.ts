// The DAG examples of README.md and docs/writing-dags.md run, so that they cannot rot. A
// fenced block is marked by the HTML comment on the line before it:
//   <!-- example: run <dag id> -->  a ts block: a DAG file, run with `keel dags test`, exit 0
//   <!-- example: load -->          a ts block: a DAG file that needs outside systems to run
//                                   (events, files, a warehouse): loaded and validated only
//   <!-- example: commands -->      an sh block: its `npm run keel -- dags test|tasks test` lines run, exit 0
// Every ts block must carry a marker, so a new example cannot slip past. No database: the
// URL points at a port nobody listens on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateDag } from '../../src/core/dag-graph.js';
import { parseDagFile } from '../../src/dag-processor/parse-file.js';
import { expectCode, limitedKeel } from '../support/cli.js';
import { SDK_URL } from '../support/temp-dags.js';
import { TASK_DEFAULTS } from '../../src/sdk/serialize.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', 'docs/writing-dags.md'];

interface Block { doc: string; line: number; kind: string; arg: string; lang: string; text: string }

/** Fenced blocks with the marker before them (kind '' when there is none). */
function blocks(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `${doc}:${i + 1}: a fence that is never closed`);
    const marker = /^<!-- example: (\w+)(?: (\S+))? -->$/.exec(lines[i - 1] ?? '');
    out.push({ doc, line: i + 1, kind: marker?.[1] ?? '', arg: marker?.[2] ?? '', lang: fence[1]!, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

/** A command line's words as a POSIX shell splits them (quotes, a trailing # comment); enough for the docs' commands. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:'([^']*)'|"((?:[^"\\]|\\.)*)"|(#.*$)|([^\s'"]+))/gy;
  let word: string | null = null;
  for (let m = re.exec(line); m && m[0] !== ''; m = re.exec(line)) {
    if (m[3] !== undefined) break;
    const glued = !/^\s/.test(m[0]) && word !== null;
    const piece = m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[4]!;
    if (glued) word += piece;
    else {
      if (word !== null) out.push(word);
      word = piece;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

const all = DOCS.flatMap(blocks);
const scratch = mkdtempSync(join(tmpdir(), 'keel-readme-'));
const keel = limitedKeel(2, { KEEL_DATABASE_URL: 'postgresql://keel@127.0.0.1:9/none', KEEL_DB_CONNECT_RETRY_SEC: '0' });
const at = (b: Block) => `${b.doc}:${b.line}`;
/** A DAG file outside the repository imports the SDK by its file URL instead of by name. */
const writeDag = (b: Block) => {
  const file = join(scratch, `${b.doc.replace(/\W/g, '_')}_${b.line}.ts`);
  writeFileSync(file, b.text.replace(/from 'keel'/g, `from ${JSON.stringify(SDK_URL)}`));
  return file;
};

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('every TypeScript block of the README and docs/writing-dags.md is marked, and each document has examples that run', () => {
  const unmarked = all.filter((b) => b.lang === 'ts' && b.kind !== 'run' && b.kind !== 'load');
  assert.deepEqual(unmarked.map(at), [], 'mark each ts block with <!-- example: run <dag id> --> or <!-- example: load -->');
  const wrong = all.filter((b) => b.kind === 'commands' && b.lang !== 'sh');
  assert.deepEqual(wrong.map(at), [], 'commands markers belong on sh blocks');
  for (const doc of DOCS) assert.ok(all.some((b) => b.doc === doc && (b.kind === 'run' || b.kind === 'commands')), `${doc} has no example that runs`);
});

// Started at once, two CLI processes at a time; each test awaits its own.
const runs = all.filter((b) => b.kind === 'run').map((b) => ({ b, result: keel(['dags', 'test', b.arg, '--file', writeDag(b), '--no-retry-delay']) }));
/** The same command in two documents runs once. */
const started = new Map<string, ReturnType<typeof keel>>();
const commands = all.filter((b) => b.kind === 'commands').flatMap((b) => b.text.split('\n').map((line) => words(line))
  .filter((w) => w.slice(0, 4).join(' ') === 'npm run keel --' && w[5] === 'test')
  .map((w) => {
    const line = w.join(' ');
    if (!started.has(line)) started.set(line, keel(w.slice(4)));
    return { b, line, result: started.get(line)! };
  }));

for (const { b, result } of runs) {
  test(`${at(b)}: DAG ${b.arg} runs to success with keel dags test`, async () => {
    const r = await result;
    expectCode(r, 0);
    assert.match(r.stdout, /^run success in /m);
    // A pool other than default_pool must be created first: an example that names one fails on a fresh Keel.
    assert.doesNotMatch(r.stdout, /^note: .* uses pool /m);
  });
}

for (const { b, line, result } of commands) {
  test(`${at(b)}: ${line}`, async () => expectCode(await result, 0));
}

test('the commands blocks hold commands to run', () => {
  for (const b of all.filter((x) => x.kind === 'commands')) assert.ok(commands.some((c) => c.b === b), `${at(b)}: no keel dags test / tasks test line found`);
});

for (const b of all.filter((x) => x.kind === 'load')) {
  test(`${at(b)}: the DAG file loads and validates`, async () => {
    const r = await parseDagFile(writeDag(b), 'example.ts', 30);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.ok(r.dags.length > 0, 'the block exports no DAG');
    for (const dag of r.dags) {
      assert.deepEqual(validateDag(dag), [], `DAG ${dag.dagId}`);
      assert.deepEqual(dag.tasks.filter((t) => t.pool !== TASK_DEFAULTS.pool).map((t) => `${t.taskId}: ${t.pool}`), [], 'pools other than default_pool must be created first');
    }
  });
}
