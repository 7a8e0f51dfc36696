// A worker killed with -9 takes its running shell command with it: the command runs in a
// process group of its own (so that an abort reaches its children), and the runner, seeing
// its worker gone, must end that group too. Otherwise the command would go on beside the
// attempt a scheduler starts elsewhere once the worker is judged dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRunning } from '../support/processes.js';

const PARENT = fileURLToPath(new URL('../fixtures/runner-parent/parent.ts', import.meta.url));

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('kill -9 of the worker ends its running shell command and the command\'s children', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-runner-orphan-'));
  const pidFile = join(dir, 'pids');
  const worker = spawn(process.execPath, ['--import', 'tsx', PARENT, pidFile], { stdio: 'ignore' });
  let pids: number[] = [];
  try {
    await waitFor('the shell command to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split(' ').length === 2, 60_000);
    pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
    assert.ok(pids.every(isRunning), 'bash and its sleep run');
    worker.kill('SIGKILL');
    // Generous: the runner learns of the disconnect at once; only a loaded machine delays it.
    await waitFor('bash and its sleep to end with their worker', () => !pids.some(isRunning), 20_000);
  } finally {
    worker.kill('SIGKILL');
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
