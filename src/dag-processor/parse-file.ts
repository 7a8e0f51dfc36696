// Parent side of DAG loading: fork a loader child with a time limit and collect what it
// reports. Every way a child can fail ends as { ok: false, error } naming the reason.
// `parseDagFile` loads one file in a fresh child; a `LoaderPool` keeps warm children that
// load one file at a time each (see load-child.ts).
import { fork, type ChildProcess } from 'node:child_process';
import type { SerializedDag } from '../core/types.js';
import { TSX_IMPORT, childEntry } from '../child-process.js';
import { userCodeEnv } from '../user-code-env.js';

/** `interrupted`: the loader was stopped by a signal from outside (a Ctrl-C, a shutdown), which says nothing about the file. */
export type LoadResult = { ok: true; dags: SerializedDag[] } | { ok: false; error: string; interrupted?: boolean };

const LOADER = childEntry('./dag-processor/load-child.ts');

/** A DAG file's top level is its author's code: the loader gets the allow-listed environment (taskEnvAllow). */
function forkLoader(args: string[], envAllow: readonly string[]): ChildProcess {
  return fork(LOADER, args, {
    execArgv: ['--import', TSX_IMPORT, '--max-old-space-size=512'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Its own process group: a Ctrl-C in the terminal reaches Keel, not a load half-way (the loader exits when Keel's channel closes).
    detached: true,
    env: userCodeEnv(process.env, envAllow, { KEEL_DAG_PARSING: '1' }),
  });
}

const timeoutError = (timeoutSec: number) => `loading took longer than ${timeoutSec}s (dagFileTimeoutSec); move slow work out of the file's top level`;
/** Signals that stop a process from outside; Keel itself ends a loader with SIGKILL. */
const INTERRUPTING = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);
const exited = (code: number | null, signal: string | null, stderr: string): LoadResult =>
  ({ ok: false, error: exitError(code, signal, stderr), ...(signal && INTERRUPTING.has(signal) ? { interrupted: true } : {}) });
const exitError = (code: number | null, signal: string | null, stderr: string) =>
  `the file ended its loader process (exit code ${code ?? 'none'}, signal ${signal ?? 'none'})${stderr ? `: ${stderr.trim().split('\n').slice(0, 8).join('\n')}` : ''}`;

export function parseDagFile(absPath: string, fileloc: string, timeoutSec: number, envAllow: readonly string[] = []): Promise<LoadResult> {
  return new Promise((resolve) => {
    let settled = false;
    let stderr = '';
    const child = forkLoader([absPath, fileloc], envAllow);
    const finish = (r: LoadResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: timeoutError(timeoutSec) }), timeoutSec * 1000);
    child.stderr?.on('data', (c: Buffer) => { if (stderr.length < 4000) stderr += c.toString(); });
    child.on('message', (m) => finish(m as LoadResult));
    child.on('error', (err) => finish({ ok: false, error: `could not start the loader: ${err.message}` }));
    child.on('exit', (code, signal) => finish(exited(code, signal, stderr)));
  });
}

/** One warm loader child; loads one file at a time. */
class WarmLoader {
  private readonly child: ChildProcess;
  private readonly ready: Promise<boolean>;
  private stderr = '';
  private current: { id: number; resolve: (r: LoadResult) => void } | null = null;
  private nextId = 1;
  private exited: { code: number | null; signal: string | null } | null = null;
  loaded = 0;

  constructor(envAllow: readonly string[]) {
    this.child = forkLoader([], envAllow);
    this.ready = new Promise((resolve) => {
      this.child.once('message', () => resolve(true));
      this.child.once('exit', () => resolve(false));
      this.child.once('error', () => resolve(false));
    });
    this.child.stderr?.on('data', (c: Buffer) => { if (this.stderr.length < 4000) this.stderr += c.toString(); });
    this.child.on('message', (m: { id?: number; result?: LoadResult }) => {
      if (m.id !== undefined && this.current?.id === m.id) this.settle(m.result!);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.settle(exited(code, signal, this.stderr));
    });
  }

  get alive(): boolean {
    return this.exited === null;
  }

  private settle(r: LoadResult): void {
    const c = this.current;
    this.current = null;
    c?.resolve(r);
  }

  /** Resolves with the result; a loader that timed out or ended is dead afterwards (`alive` false). */
  async load(absPath: string, fileloc: string, version: string, timeoutSec: number): Promise<LoadResult> {
    if (!(await this.ready)) return { ok: false, error: `could not start the loader${this.exited ? `: ${exitError(this.exited.code, this.exited.signal, this.stderr)}` : ''}` };
    this.stderr = '';
    this.loaded++;
    const id = this.nextId++;
    return new Promise<LoadResult>((resolve) => {
      const timer = setTimeout(() => {
        this.settle({ ok: false, error: timeoutError(timeoutSec) });
        this.kill();
      }, timeoutSec * 1000);
      this.current = { id, resolve: (r) => { clearTimeout(timer); resolve(r); } };
      this.child.send({ id, absPath, fileloc, version }, (err) => {
        if (err) this.settle({ ok: false, error: `could not reach the loader: ${err.message}` });
      });
    });
  }

  kill(): void {
    this.exited ??= { code: null, signal: 'SIGKILL' };
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Warm loader children shared by the loads of one scan: a free loader takes the next file;
 * a loader is replaced after `maxFilesPerLoader` files or once a file ended or hung it.
 */
export class LoaderPool {
  private readonly idle: WarmLoader[] = [];
  private readonly all = new Set<WarmLoader>();

  constructor(private readonly envAllow: readonly string[] = [], private readonly maxFilesPerLoader = 100) {}

  async load(absPath: string, fileloc: string, version: string, timeoutSec: number): Promise<LoadResult> {
    let loader = this.idle.pop();
    while (loader && !loader.alive) loader = this.idle.pop();
    if (!loader) {
      loader = new WarmLoader(this.envAllow);
      this.all.add(loader);
    }
    const result = await loader.load(absPath, fileloc, version, timeoutSec);
    if (loader.alive && loader.loaded < this.maxFilesPerLoader) this.idle.push(loader);
    else {
      loader.kill();
      this.all.delete(loader);
    }
    return result;
  }

  /** Ends every loader (at the end of a scan: the next scan imports helper modules afresh). */
  close(): void {
    for (const l of this.all) l.kill();
    this.all.clear();
    this.idle.length = 0;
  }
}
