// Parent side of DAG loading: fork the loader child with a time limit and collect what it
// reports. Every way a child can fail ends as { ok: false, error } naming the reason.
import { fork } from 'node:child_process';
import type { SerializedDag } from '../core/types.js';
import { TSX_IMPORT, childEntry } from '../child-process.js';

export type LoadResult = { ok: true; dags: SerializedDag[] } | { ok: false; error: string };

const LOADER = childEntry('./dag-processor/load-child.ts');

export function parseDagFile(absPath: string, fileloc: string, timeoutSec: number): Promise<LoadResult> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    const child = fork(LOADER, [absPath, fileloc], {
      execArgv: ['--import', TSX_IMPORT, '--max-old-space-size=512'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, KEEL_DAG_PARSING: '1' },
    });
    const finish = (r: LoadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `loading took longer than ${timeoutSec}s (dagFileTimeoutSec); move slow work out of the file's top level` }), timeoutSec * 1000);
    child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 4000) stderr += c.toString(); });
    child.on('message', (m) => finish(m as LoadResult));
    child.on('error', (err) => finish({ ok: false, error: `could not start the loader: ${err.message}` }));
    child.on('exit', (code, signal) => {
      finish({ ok: false, error: `the file ended its loader process (exit code ${code ?? 'none'}, signal ${signal ?? 'none'})${stderr ? `: ${stderr.trim().split('\n').slice(0, 8).join('\n')}` : ''}` });
    });
  });
}
