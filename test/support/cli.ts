// The `keel` command as a user runs it: a real process (node bin/keel.js) in the
// repository, with only the given KEEL_* variables set, optionally fed standard input.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function runKeel(args: string[], env: Record<string, string>, input?: string): Promise<CliResult> {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEEL_')) base[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/keel.js', ...args], {
      cwd: ROOT,
      env: { ...base, KEEL_LOG_FORMAT: 'json', ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    if (input !== undefined) child.stdin!.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 40000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function expectCode(r: CliResult, code: number): void {
  assert.equal(r.code, code, `exit code ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

/**
 * runKeel with at most `concurrency` processes at once: a test file can start all its
 * invocations together (each CLI start costs about a CPU-second) without crowding the machine.
 */
export function limitedKeel(concurrency: number, env: Record<string, string>): (args: string[]) => Promise<CliResult> {
  let free = concurrency;
  const waiting: (() => void)[] = [];
  return async (args) => {
    while (free === 0) await new Promise<void>((r) => waiting.push(r));
    free--;
    try {
      return await runKeel(args, env);
    } finally {
      free++;
      waiting.shift()?.();
    }
  };
}
