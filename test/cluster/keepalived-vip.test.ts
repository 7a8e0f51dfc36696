// deploy/keepalived/keepalived.conf on two "HAProxy hosts", each a network namespace with
// its own keepalived and HAProxy, bridged to a client namespace, as docs/deploy/on-prem.md
// describes: the VIP is on the preferred host; when that host's HAProxy stops, the VIP
// moves to the other host; a recovered host does not take it back (nopreempt); when the
// holding host drops off the network, the VIP moves back. A client in the third namespace
// asks the VIP every 50 ms which host answers (each HAProxy answers its own name) and times
// each move. Needs root, `ip netns`, keepalived and haproxy; fails, never skips, without them.
// The config is used as written except the addresses, each host's priority, and the
// HAProxy check, which names this host's HAProxy by pid: `killall -0 haproxy` would see
// the other namespace's HAProxy too (network namespaces share the process table).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../support/cluster.js';

const NS = `keel-vip-${process.pid}`;
const VIP = '10.77.0.50';
const HOSTS = { a: { address: '10.77.0.11', priority: 100 }, b: { address: '10.77.0.12', priority: 90 } } as const;
type Host = keyof typeof HOSTS;

// keepalived runs check scripts only from paths no other user may write: not under /tmp.
const dir = mkdtempSync('/run/keel-vip-');
const children: ChildProcess[] = [];
const output = new Map<string, string[]>();
const haproxies = new Map<Host, ChildProcess>();
const seen: { at: number; who: string }[] = [];

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

function inNs(ns: string, cmd: string[], log: string): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  output.set(log, out);
  child.stdout!.on('data', (c: Buffer) => out.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => out.push(c.toString()));
  child.on('exit', () => writeFileSync(join(dir, log), out.join('')));
  children.push(child);
  return child;
}

function startHaproxy(host: Host): void {
  const cfg = join(dir, `haproxy-${host}.cfg`);
  writeFileSync(cfg, `defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend postgres_rw\n  bind :5000\n  http-request return status 200 content-type text/plain string "${host}"\n`);
  const child = inNs(`${NS}-${host}`, ['haproxy', '-db', '-f', cfg], `haproxy-${host}.log`);
  writeFileSync(join(dir, `haproxy-${host}.pid`), String(child.pid));
  haproxies.set(host, child);
}

/** Which host holds the VIP, from the hosts' own interfaces. */
function holders(): Host[] {
  return (Object.keys(HOSTS) as Host[]).filter((h) => ip('-n', `${NS}-${h}`, '-4', 'addr', 'show', 'eth0').includes(`inet ${VIP}/`));
}

/** The first answer from `who` after `since`, as the client saw it. */
async function answeredBy(who: Host, since: number, timeoutMs = 15_000): Promise<number> {
  return waitFor(`${who} answering on the VIP`, async () => seen.find((s) => s.at > since && s.who === who)?.at, timeoutMs, 20);
}

before(() => {
  for (const n of ['c', 'a', 'b']) ip('netns', 'add', `${NS}-${n}`);
  ip('-n', `${NS}-c`, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', `${NS}-c`, 'addr', 'add', '10.77.0.1/24', 'dev', 'br0');
  ip('-n', `${NS}-c`, 'link', 'set', 'br0', 'up');
  const conf = readFileSync('deploy/keepalived/keepalived.conf', 'utf8');
  for (const [host, { address, priority }] of Object.entries(HOSTS) as [Host, (typeof HOSTS)[Host]][]) {
    const ns = `${NS}-${host}`;
    const port = `kv${process.pid}${host}`; // the host's end of its cable on the bridge; at most 15 characters
    ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', port, 'netns', `${NS}-c`);
    ip('-n', `${NS}-c`, 'link', 'set', port, 'master', 'br0', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const check = join(dir, `check-haproxy-${host}.sh`);
    writeFileSync(check, `#!/bin/sh\nexec kill -0 "$(cat ${join(dir, `haproxy-${host}.pid`)})"\n`);
    chmodSync(check, 0o700);
    const mine = conf
      .replace('script "/usr/bin/killall -0 haproxy"', `script "${check}"`)
      .replace('10.0.0.50/24', `${VIP}/24`)
      .replace(/priority 100 .*/, `priority ${priority}`);
    assert.notEqual(mine, conf);
    writeFileSync(join(dir, `keepalived-${host}.conf`), mine);
    startHaproxy(host);
    inNs(ns, ['keepalived', '--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', join(dir, `keepalived-${host}.conf`), '-p', join(dir, `keepalived-${host}.pid`), '-r', join(dir, `vrrp-${host}.pid`)], `keepalived-${host}.log`);
  }
  const client = inNs(`${NS}-c`, [process.execPath, '-e', `
    const http = require('node:http');
    const ask = () => {
      const req = http.get({ host: '${VIP}', port: 5000, path: '/', agent: false, timeout: 200 }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => { console.log(JSON.stringify({ at: Date.now(), who: body })); setTimeout(ask, 50); });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => { console.log(JSON.stringify({ at: Date.now(), who: 'none' })); setTimeout(ask, 50); });
    };
    ask();`], 'client.log');
  createInterface({ input: client.stdout! }).on('line', (line) => seen.push(JSON.parse(line) as { at: number; who: string }));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  for (const n of ['a', 'b', 'c']) ip('netns', 'del', `${NS}-${n}`);
  rmSync(dir, { recursive: true, force: true });
});

test('the keepalived VIP: on the preferred host, moves when its HAProxy stops, stays after it recovers, moves back when the holder drops off the network', async (t) => {
  await answeredBy('a', 0);
  assert.deepEqual(holders(), ['a'], 'the highest priority holds the VIP');

  const stopped = Date.now();
  haproxies.get('a')!.kill('SIGKILL');
  const movedAt = await answeredBy('b', stopped);
  assert.deepEqual(holders(), ['b']);
  const haproxyMove = movedAt - stopped;
  t.diagnostic(`HAProxy on the VIP's host stopped: the other host answered on the VIP ${haproxyMove} ms later`);
  // chk_haproxy: 2 failures 1 s apart, then the VIP is released and taken over at once.
  assert.ok(haproxyMove < 6000, `moved in ${haproxyMove} ms`);

  const logA = output.get('keepalived-a.log')!;
  const backups = logA.join('').split('Entering BACKUP STATE').length;
  startHaproxy('a');
  await waitFor('host a back from FAULT to BACKUP', async () => logA.join('').split('Entering BACKUP STATE').length > backups, 15_000);
  const recovered = Date.now();
  await waitFor('two more seconds of answers', async () => (seen.at(-1)!.at - recovered > 2500 ? true : null), 10_000);
  assert.deepEqual(holders(), ['b'], 'nopreempt: the recovered host does not take the VIP back');
  assert.ok(seen.filter((s) => s.at > recovered).every((s) => s.who === 'b'), 'no answer from a meanwhile');

  const lost = Date.now();
  ip('-n', `${NS}-b`, 'link', 'set', 'eth0', 'down');
  const backAt = await answeredBy('a', lost);
  const hostMove = backAt - lost;
  t.diagnostic(`the VIP's host dropped off the network: the other host answered on the VIP ${hostMove} ms later`);
  // VRRP's Master_Down_Interval: 3 × advert_int (1 s) + skew ((256 − 100) / 256 s).
  // Its last advertisement came up to 1 s before the cut.
  assert.ok(hostMove >= 2500 && hostMove < 7000, `moved in ${hostMove} ms`);
});
