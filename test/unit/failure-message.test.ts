// What a failed task shows (src/worker/failure-message.ts), through a real runner process
// (src/worker/runner-pool.ts) and a real DAG file: a shell task's failure names the command,
// its exit code or signal and the last lines of its stderr, with a secret masked the way the
// worker masks it; a function task's failure lists the DAG file's frames first and trims
// Keel's, tsx's and Node's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { RunnerPool, type RunOutcome } from '../../src/worker/runner-pool.js';
import { SecretMasker } from '../../src/secrets/masker.js';
import { createLogger } from '../../src/log.js';
import { STDERR_TAIL_LINES, taskErrorText } from '../../src/worker/failure-message.js';
import type { RunRequest } from '../../src/worker/runner-protocol.js';

const FILE = fileURLToPath(new URL('../fixtures/failures/failing.ts', import.meta.url));
const COMMAND_OF_EXITS = 'echo "working"; for i in $(seq 1 30); do echo "progress $i" >&2; done; echo "fatal: token s3cr3t-t0ken rejected" >&2; exit 3';
let pool: RunnerPool;
let n = 0;

before(async () => {
  pool = new RunnerPool({ size: 1, spares: 0, memoryMb: 256, maxTasksPerRunner: 100, watchdogMs: 0, envAllow: [], answerSecret: async () => ({ ok: false, error: 'no secrets in this test' }), log: createLogger({ level: 'warn', format: 'json' }) });
  await pool.start();
});
after(async () => { await pool.close(); });

function run(taskId: string, kind: 'shell' | 'function', command?: string): Promise<RunOutcome> {
  const attemptId = `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
  const at = '2026-01-01T00:00:00.000Z';
  const req: RunRequest = {
    type: 'run', attemptId, file: FILE, dagId: 'failing', taskId, kind, ...(command ? { command } : {}), resultMaxBytes: 1 << 20,
    context: { dagId: 'failing', runId: 'r', taskId, logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at, tryNumber: 1, maxTries: 1, attemptId, params: {}, upstream: {}, resumed: false, triggerEvent: null },
  };
  return pool.run(req, 60, () => {}, new AbortController().signal);
}

function failure(o: RunOutcome): string {
  assert.equal(o.ok, false, 'the task fails');
  return (o as { error: string }).error;
}

test('a shell task that exits non-zero: the command, the exit code and the last lines of stderr, masked; no runner stack', async () => {
  const error = new SecretMasker(['s3cr3t-t0ken']).mask(failure(await run('exits', 'shell', COMMAND_OF_EXITS)));
  assert.match(error, /command exited with code 3: echo "working"; for i in/);
  assert.match(error, new RegExp(`last ${STDERR_TAIL_LINES} line\\(s\\) of its stderr`));
  assert.match(error, /progress 30\n\s+fatal: token \*\*\* rejected$/, 'ends with the last stderr lines, the secret masked');
  assert.doesNotMatch(error, /progress 10\n/, 'only the last lines');
  assert.doesNotMatch(error, /s3cr3t-t0ken/);
  assert.doesNotMatch(error, /runner-child|ChildProcess|\n\s+at /, 'no stack of the runner');
  assert.doesNotMatch(error, /\n\s+working/, 'stdout is in the log, not the failure');
});

test('a shell task killed by a signal names the signal', async () => {
  const error = failure(await run('killed', 'shell', 'echo "about to die" >&2; kill -TERM $$'));
  assert.match(error, /^ShellTaskError: command was killed by SIGTERM: echo "about to die"/);
  assert.match(error, /about to die/);
});

test("a function task's failure: the DAG file's frames first, the others trimmed to a count", async () => {
  const error = failure(await run('throws', 'function'));
  const lines = error.split('\n');
  assert.equal(lines[0], 'Error: not an amount: "x"');
  assert.match(lines[1]!, /at parseAmount .*failing\.ts:7:/, `first frame in the DAG file: ${error}`);
  assert.match(lines[2]!, /failing\.ts/);
  assert.ok(lines.filter((l) => /^\s+at /.test(l)).every((l) => l.includes('failing.ts')), `only the DAG file's frames: ${error}`);
  assert.match(error, /… \d+ frame\(s\) of Keel, libraries and Node trimmed$/);
});

test('causes follow, and a frameless error is kept whole', () => {
  const e = new Error('outer', { cause: new Error('inner') });
  const text = taskErrorText(e);
  assert.match(text, /^Error: outer\n/);
  assert.match(text, /caused by: Error: inner/);
  assert.equal(taskErrorText('plain'), 'plain');
});
