// The worker's runner pool: the warm runners start() makes are the ones tasks run in, the
// pool never holds more than its size, and a retired runner is replaced in the background.
// Runners are real processes (children of this test process); no database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { RunnerPool } from '../../src/worker/runner-pool.js';
import type { RunRequest } from '../../src/worker/runner-protocol.js';

const log = createLogger({ level: 'silent', format: 'json' });

/** Process ids of this test process's runner children (tsx may have an esbuild child too). */
function childPids(): Set<number> {
  try {
    const rows = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)]).toString().trim().split('\n');
    return new Set(rows.filter((l) => l.includes('runner-child')).map((l) => Number(l.trim().split(/\s+/)[0])));
  } catch {
    return new Set(); // ps exits 1 when there is no child
  }
}

let seq = 0;
/** A shell task printing the process id of its runner (bash's parent). */
function shellTask(dagId: string): RunRequest {
  const attemptId = `a${++seq}`;
  const now = new Date().toISOString();
  return {
    type: 'run', attemptId, file: '/nonexistent.ts', dagId, taskId: 't', kind: 'shell', command: 'echo $PPID', resultMaxBytes: 1000,
    context: { dagId, runId: 'r', taskId: 't', logicalDate: now, dataIntervalStart: now, dataIntervalEnd: now, tryNumber: 1, maxTries: 1, attemptId, params: {}, upstream: {}, resumed: false, triggerEvent: undefined },
  };
}

async function runnerPidOf(pool: RunnerPool, dagId: string): Promise<number> {
  const out = await pool.run(shellTask(dagId), 30, () => undefined, new AbortController().signal);
  assert.ok(out.ok, JSON.stringify(out));
  return Number(out.result);
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('tasks run in the runners start() made, and the pool holds only its size', { timeout: 120_000 }, async () => {
  const pool = new RunnerPool({ size: 2, spares: 0, memoryMb: 256, maxTasksPerRunner: 1000, watchdogMs: 0, envAllow: [], answerSecret: async () => ({ ok: false, error: 'no secrets in this test' }), log });
  try {
    await pool.start();
    const warm = childPids();
    assert.equal(warm.size, 2, 'two runners started');
    const used = await Promise.all([runnerPidOf(pool, 'd'), runnerPidOf(pool, 'd')]);
    assert.deepEqual(new Set(used), warm, 'the two concurrent tasks ran in the two warm runners, not in new ones');
    assert.deepEqual(childPids(), warm, 'no runner was started for them');
    // A DAG of its own: the runner of another DAG that idled longest is retired for it, the size stays 2.
    await runnerPidOf(pool, 'other');
    await waitFor('the retired runner to exit', () => childPids().size === 2);
  } finally {
    await pool.close();
  }
});

test('spares: a task of another DAG gets a runner of its own while the others stay warm; past size + spares the longest idle one is retired', { timeout: 120_000 }, async () => {
  const pool = new RunnerPool({ size: 1, spares: 1, memoryMb: 256, maxTasksPerRunner: 1000, watchdogMs: 0, envAllow: [], answerSecret: async () => ({ ok: false, error: 'no secrets in this test' }), log });
  try {
    await pool.start();
    const a = await runnerPidOf(pool, 'a');
    const b = await runnerPidOf(pool, 'b');
    assert.notEqual(a, b);
    assert.deepEqual(childPids(), new Set([a, b]), 'the runner of a stays warm beside the one started for b');
    assert.equal(await runnerPidOf(pool, 'a'), a, 'a runs again in its warm runner: no start');
    const c = await runnerPidOf(pool, 'c');
    await waitFor('the retired runner to exit', () => childPids().size === 2);
    assert.deepEqual(childPids(), new Set([a, c]), 'b\'s runner, idle longest, was retired for c');
  } finally {
    await pool.close();
  }
});

test('a retired runner is replaced in the background by a started one, which the next task uses', { timeout: 120_000 }, async () => {
  // Retired after every task (1 ± 25 % rounds to 1).
  const pool = new RunnerPool({ size: 1, spares: 0, memoryMb: 256, maxTasksPerRunner: 1, watchdogMs: 0, envAllow: [], answerSecret: async () => ({ ok: false, error: 'no secrets in this test' }), log });
  try {
    await pool.start();
    const [first] = [...childPids()];
    assert.equal(await runnerPidOf(pool, 'd'), first);
    await waitFor('a replacement runner', () => {
      const now = childPids();
      return now.size === 1 && !now.has(first!);
    });
    const [replacement] = [...childPids()];
    assert.equal(await runnerPidOf(pool, 'd'), replacement, 'the next task ran in the replacement started in the background');
  } finally {
    await pool.close();
  }
});

test('an attempt stopped while it waits for its runner never starts; one stopped while running ends at once', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-runner-stop-'));
  // No warm runner: the first task waits for one to start, which takes about a second.
  const pool = new RunnerPool({ size: 1, spares: 0, memoryMb: 256, maxTasksPerRunner: 1000, watchdogMs: 0, envAllow: [], answerSecret: async () => ({ ok: false, error: 'no secrets in this test' }), log });
  try {
    const marker = join(dir, 'started');
    const waiting = new AbortController();
    const req = { ...shellTask('d'), command: `touch ${marker}` };
    const pending = pool.run(req, 30, () => undefined, waiting.signal);
    waiting.abort('fenced while waiting for a runner');
    assert.deepEqual(await pending, { ok: false, error: 'fenced while waiting for a runner' });
    // The runner it waited for is kept and serves the next task, which shows it was ready.
    assert.ok((await pool.run(shellTask('d'), 30, () => undefined, new AbortController().signal)).ok);
    assert.equal(existsSync(marker), false, 'the stopped attempt\'s command never ran');

    const running = new AbortController();
    const started = Date.now();
    const long = pool.run({ ...shellTask('d'), command: `touch ${marker}; sleep 60` }, 120, () => undefined, running.signal);
    await waitFor('the command to start', () => existsSync(marker));
    running.abort('fenced while running');
    assert.deepEqual(await long, { ok: false, error: 'fenced while running' });
    assert.ok(Date.now() - started < 30_000, 'the running command was killed, not waited for');
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
