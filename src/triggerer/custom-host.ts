// The triggerer's side of the custom-trigger child: one warm process, restarted when it
// dies; each poll is a request with an id and a time limit.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TSX_IMPORT, childEntry } from '../child-process.js';
import { userCodeEnv } from '../user-code-env.js';
import type { TriggerSpec } from '../deferral/triggers/spec.js';
import type { CustomPollRequest, CustomPollResponse } from './custom-protocol.js';

/** Longest a custom poll may take before it counts as failed. */
const POLL_TIMEOUT_MS = 30_000;

export class CustomTriggerHost {
  private child: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly dagsFolder: string, private readonly envAllow: readonly string[]) {}

  private ensureChild(): ChildProcess {
    if (this.child && this.child.connected) return this.child;
    // Trigger code is DAG authors' code: the allow-listed environment only.
    const child = fork(childEntry('triggerer/custom-child.ts'), [], {
      execArgv: ['--import', TSX_IMPORT], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: userCodeEnv(process.env, this.envAllow),
    });
    child.on('message', (m: CustomPollResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      for (const [id, p] of this.pending) {
        p.reject(new Error(`the custom-trigger process ended (${signal ?? `code ${code}`})`));
        this.pending.delete(id);
      }
    });
    this.child = child;
    return child;
  }

  poll(spec: Extract<TriggerSpec, { kind: 'custom' }>, fileloc: string): Promise<unknown> {
    const child = this.ensureChild();
    const req: CustomPollRequest = { id: this.nextId++, file: join(this.dagsFolder, fileloc), name: spec.name, args: spec.args, timeoutMs: POLL_TIMEOUT_MS };
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { resolve, reject });
      child.send(req, (err) => {
        if (err && this.pending.delete(req.id)) reject(err);
      });
    });
  }

  close(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}
