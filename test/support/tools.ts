// System tools some tests drive (Debian's haproxy, chromium, openssl). A missing tool
// fails the test with the command that installs it; tests never skip (.ci/run installs them).
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export function requireTool(path: string, aptPackage: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: install it with \`apt-get install -y ${aptPackage}\` (.ci/run does this in CI)`);
  return path;
}

/** A TCP port that was free a moment ago on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
