// A loopback TCP port that was free a moment ago: for servers Keel starts for tests,
// benchmarks and the chaos harness (the embedded PostgreSQL), where a fixed port may be taken.
//
// Ports come from below the kernel's ephemeral range (net.ipv4.ip_local_port_range), so
// that no outgoing connection of this busy machine can take one between this check and
// the server's bind (a PostgreSQL of the test cluster once never came up), and one process
// never hands out the same port twice.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST_PORT = 10000;
const DEFAULT_EPHEMERAL_START = 32768;
const given = new Set<number>();

function ephemeralStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST_PORT + 1000 ? first : DEFAULT_EPHEMERAL_START;
  } catch {
    return DEFAULT_EPHEMERAL_START;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const end = ephemeralStart();
  for (let tries = 0; tries < 500; tries++) {
    const port = LOWEST_PORT + Math.floor(Math.random() * (end - LOWEST_PORT));
    if (given.has(port)) continue;
    if (await canListen(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${LOWEST_PORT} and ${end}`);
}
