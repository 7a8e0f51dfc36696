// The pure fencing rules (src/fencing/INVARIANTS.md): lease timings and self-fencing, the
// runner watchdog, and the sweeper's own part of the outage grace; and the document itself
// names only files and tests that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutageGrace, orphanProvenGone } from '../../src/fencing/grace.js';
import { mustSelfFence, renewalTimeoutMs, renewEveryMs, selfFenceAfterMs } from '../../src/fencing/lease.js';
import { endedByWatchdog, LeaseWatchdog, watchdogNotice } from '../../src/fencing/watchdog.js';

test('a worker renews well inside the lease and self-fences before it can expire', () => {
  for (const leaseSec of [1, 3, 6, 15, 45, 600]) {
    const leaseMs = leaseSec * 1000;
    assert.ok(renewEveryMs(leaseSec) <= leaseMs / 3, `lease ${leaseSec} s: renewed at least three times per lease`);
    assert.ok(renewEveryMs(leaseSec) < selfFenceAfterMs(leaseSec), `lease ${leaseSec} s: a renewal is due before the self-fencing deadline`);
    assert.ok(selfFenceAfterMs(leaseSec) < leaseMs, `lease ${leaseSec} s: self-fencing comes before expiry`);
    assert.ok(renewalTimeoutMs(leaseSec) < renewEveryMs(leaseSec), `lease ${leaseSec} s: a hung renewal is given up before the next one is due`);
  }
  assert.equal(renewEveryMs(45), 5000, 'every 5 s at most');
  assert.equal(selfFenceAfterMs(45), 36_000, '80 % of the lease');
  // The failover scenarios' 30 s lease and an 11 s outage through PgBouncer, where every renewal
  // hangs until given up: the tick after the database returns renews before the deadline.
  assert.ok(11_000 + 2 * renewEveryMs(30) < selfFenceAfterMs(30), 'an 11 s failover leaves a 30 s lease unharmed');
});

test('self-fencing: after most of a lease without a renewal, or at once when the session is unfit', () => {
  assert.equal(mustSelfFence({ silentMs: 35_999, leaseSec: 45, unfit: false }), false);
  assert.equal(mustSelfFence({ silentMs: 36_001, leaseSec: 45, unfit: false }), true);
  assert.equal(mustSelfFence({ silentMs: 0, leaseSec: 45, unfit: true }), true);
});

test('the runner watchdog fires when the window passes without a confirmation, never when off', () => {
  const w = new LeaseWatchdog(1000);
  assert.equal(w.expired(1e9), false, 'no attempt started yet');
  w.started(100);
  assert.equal(w.expired(1100), false);
  assert.equal(w.expired(1101), true);
  w.confirmed(1050, 800);
  assert.equal(w.expired(1850), false, 'a confirmation moves the deadline');
  assert.equal(w.expired(1851), true);
  const off = new LeaseWatchdog(0);
  off.started(0);
  assert.equal(off.expired(1e9), false);
});

test('the worker tells a watchdog kill from any other end of its runner', () => {
  assert.equal(endedByWatchdog(`INFO doing work\n${watchdogNotice('a1', 36000)}\n`), true);
  assert.equal(endedByWatchdog('FATAL ERROR: Reached heap limit Allocation failed'), false);
});

test('a sweeper fences by lock absence only once it has been up for the outage grace', () => {
  let now = 1000;
  const grace = new OutageGrace(15, () => now);
  assert.equal(grace.observedLongEnough(), false);
  now += 14_999;
  assert.equal(grace.observedLongEnough(), false);
  now += 1;
  assert.equal(grace.observedLongEnough(), true);
  assert.equal(new OutageGrace(0, () => now).observedLongEnough(), true, 'no grace: at once');
});

test('a sweeper within its grace fences an orphan only on evidence that its process died', () => {
  const beat = new Date('2026-12-03T10:00:00Z');
  const orphan = { lastHeartbeatAt: beat, pid: 4242, processNamespace: 'boot/pid:[1]' };
  const none = { oldestSurvivingSession: null, processNamespace: 'boot/pid:[1]', processGone: () => false };
  assert.equal(orphanProvenGone(orphan, none), false, 'no evidence: wait for the grace');
  assert.equal(orphanProvenGone(orphan, { ...none, oldestSurvivingSession: new Date(beat.getTime() - 1) }), true, 'a session older than its last heartbeat survived: no disruption cut every session');
  assert.equal(orphanProvenGone(orphan, { ...none, oldestSurvivingSession: beat }), false, 'a session as young as its last heartbeat may have reconnected after the same cut');
  assert.equal(orphanProvenGone(orphan, { ...none, processGone: (pid) => pid === 4242 }), true, 'same pid namespace, its pid gone');
  assert.equal(orphanProvenGone(orphan, { ...none, processNamespace: 'boot/pid:[2]', processGone: () => true }), false, 'another pid namespace: its pids are not ours to look up');
  assert.equal(orphanProvenGone({ ...orphan, processNamespace: null }, { ...none, processNamespace: null, processGone: () => true }), false, 'no namespace known on either side');
});

test('src/fencing/INVARIANTS.md names files that exist and tests that exist in them', () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const doc = readFileSync(join(root, 'src/fencing/INVARIANTS.md'), 'utf8').replace(/\s+/g, ' ');
  // A bare name is a module of src/fencing/, a statement (in any area folder) or a migration.
  const bare = new Set([
    ...readdirSync(join(root, 'src/fencing')),
    ...readdirSync(join(root, 'src/db/queries'), { recursive: true, encoding: 'utf8' }).map((f) => basename(f)),
    ...readdirSync(join(root, 'src/db/migrations')),
  ]);
  for (const [, file] of doc.matchAll(/`([\w./-]+\.(?:ts|sql|md))`/g)) {
    assert.ok(file!.includes('/') ? existsSync(join(root, file!)) : bare.has(file!), `${file} exists`);
  }
  let named = 0;
  for (const [, file, names] of doc.matchAll(/`(test\/[\w/.-]+\.test\.ts)` — ((?:"[^"]+"(?:, )?)+)/g)) {
    const text = readFileSync(join(root, file!), 'utf8').replace(/\\'/g, "'").replace(/\s+/g, ' ');
    for (const [, name] of names!.matchAll(/"([^"]+)"/g)) {
      assert.ok(text.includes(name!), `${file} has the test "${name}"`);
      named++;
    }
  }
  assert.ok(named >= 15, `tests named (${named})`);
});
