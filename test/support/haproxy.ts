// deploy/haproxy/haproxy.cfg for real, as tests run it: Debian's HAProxy terminating TLS
// (a self-signed certificate for "localhost", made with openssl) on free loopback ports in
// front of the given API addresses, up once HAProxy reports both servers UP.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './cluster.js';
import { freePort, requireTool } from './tools.js';

export const HAPROXY_CONFIG = fileURLToPath(new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url));

export interface TestHaproxy {
  /** The address the TLS frontend listens on (127.0.0.1, or ::1). */
  host: string;
  https: number;
  http: number;
  stats: number;
  /** Trusts the test certificate. */
  agent: Agent;
  /** A server's status column of the stats page (UP, DOWN, NOLB, …). */
  serverStatus(name: 'api1' | 'api2'): Promise<string>;
  stop(): void;
}

export async function startHaproxy(api: [string, string], opts: { host?: string } = {}): Promise<TestHaproxy> {
  const haproxyBin = requireTool('/usr/sbin/haproxy', 'haproxy');
  const openssl = requireTool('/usr/bin/openssl', 'openssl');
  const dir = mkdtempSync(join(tmpdir(), 'keel-haproxy-'));
  execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  writeFileSync(join(dir, 'lb.pem'), Buffer.concat([cert, readFileSync(join(dir, 'key.pem'))]));
  const host = opts.host ?? '127.0.0.1';
  const ports = { https: await freePort(), http: await freePort(), stats: await freePort() };
  const child = spawn(haproxyBin, ['-db', '-f', HAPROXY_CONFIG], {
    env: {
      ...process.env, KEEL_LB_BIND: `${host.includes(':') ? `[${host}]` : host}:${ports.https}`, KEEL_LB_HTTP_BIND: `127.0.0.1:${ports.http}`, KEEL_LB_CERT: join(dir, 'lb.pem'),
      KEEL_LB_STATS_BIND: `127.0.0.1:${ports.stats}`, KEEL_API_1: api[0], KEEL_API_2: api[1],
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const serverStatus = async (name: string) => {
    const res = await fetch(`http://127.0.0.1:${ports.stats}/stats;csv`);
    const line = (await res.text()).split('\n').find((l) => l.startsWith(`keel_api,${name},`));
    return line?.split(',')[17] ?? 'unknown';
  };
  const stop = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('both copies up in HAProxy', async () => (await serverStatus('api1').catch(() => '')) === 'UP' && (await serverStatus('api2')) === 'UP', 20000, 200);
  } catch (err) {
    stop();
    throw err;
  }
  return { host, ...ports, agent: new Agent({ ca: cert, keepAlive: false }), serverStatus, stop };
}
