// System tools some tests drive (Debian's haproxy, chromium, openssl). A missing tool
// fails the test with the command that installs it; tests never skip (.ci/run installs them).
import { existsSync } from 'node:fs';

export function requireTool(path: string, aptPackage: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with \`apt-get install -y ${aptPackage}\` (.ci/run does this in CI)`);
  return path;
}

export { freePort } from '../../src/free-port.js';
