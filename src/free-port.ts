// A loopback TCP port that was free a moment ago: for servers Keel starts for tests,
// benchmarks and the chaos harness (the embedded PostgreSQL), where a fixed port may be taken.
import { createServer } from 'node:net';

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
