// The "database is back" signal of a process: retry pauses and idle loops end when any call
// reaches the database again, per database URL, and a call that keeps failing still backs off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Availability, PROBE_EVERY_MS, retryPause } from '../../src/db/availability.js';
import { Database } from '../../src/db/database.js';
import { retryTransient } from '../../src/db/retry.js';

const LONG_MS = 10_000;

async function timed(p: Promise<unknown>): Promise<number> {
  const t = performance.now();
  await p;
  return performance.now() - t;
}

function refused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
}

test('a sleep ends when the lost database is reached again, and says it ended early', async () => {
  const a = new Availability();
  a.lost();
  const sleeping = a.sleep(LONG_MS);
  setTimeout(() => a.reached(), 20);
  const t = performance.now();
  assert.equal(await sleeping, true);
  assert.ok(performance.now() - t < LONG_MS / 2);
  assert.equal(a.unreachable, false);
});

test('reaching a database that was never lost wakes nobody; a short sleep ends on its own timer', async () => {
  const a = new Availability();
  let woken = 0;
  a.onBack(() => woken++);
  a.reached();
  assert.equal(woken, 0);
  assert.equal(await a.sleep(10), false);
  assert.equal(a.outages, 0);
  a.lost();
  await new Promise((r) => setTimeout(r, 20));
  a.reached();
  a.reached();
  assert.equal(woken, 1, 'one return, one wake-up');
  assert.equal(a.outages, 1, 'one outage counted');
  assert.ok(a.outageMsTotal >= 15, `the outage lasted from lost to reached (${a.outageMsTotal} ms)`);
});

test('the signal is per database URL: another database coming back wakes nothing here', async (t) => {
  // Nothing listens on port 1: the probes of the lost databases are refused at once.
  const a = new Database('postgres://127.0.0.1:1/db_a', { size: 1, applicationName: 'keel-test' });
  const b = new Database('postgres://127.0.0.1:1/db_b', { size: 1, applicationName: 'keel-test' });
  t.after(() => Promise.all([a.close(), b.close()]));
  const mine = a.availability;
  const other = b.availability;
  assert.equal(a.sessionAvailability, mine);
  mine.lost();
  other.lost();
  let ended = false;
  const sleeping = mine.sleep(200).then((early) => { ended = true; return early; });
  other.reached();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(ended, false);
  mine.reached();
  assert.equal(await sleeping, true);
});

test('a retry pause woken early is not woken early again the next time: it sleeps its full backoff', async () => {
  const a = new Availability();
  const pause = retryPause(a);
  a.lost();
  setTimeout(() => a.reached(), 10);
  assert.ok(await timed(pause(LONG_MS)) < LONG_MS / 2, 'first pause ends when the database is back');
  a.lost();
  const second = timed(pause(150));
  setTimeout(() => a.reached(), 10);
  assert.ok(await second >= 140, 'the second pause in a row sleeps its whole backoff');
  a.lost();
  setTimeout(() => a.reached(), 10);
  assert.ok(await timed(pause(LONG_MS)) < LONG_MS / 2, 'after a full pause, early wake-ups count again');
});

test('the retry loop (Database.withRetry): a call failing with a lost connection marks the database unreachable, retries when another call reaches it, and marks it reached', async () => {
  const a = new Availability();
  // Which pauses went through the availability's sleep, and whether each ended early.
  const sleeps: boolean[] = [];
  const sleep = a.sleep.bind(a);
  a.sleep = async (ms, opts) => {
    const early = await sleep(ms, opts);
    sleeps.push(early);
    return early;
  };
  let calls = 0;
  const result = retryTransient(async () => {
    calls++;
    if (calls <= 5) throw refused();
    return 'ok';
  }, { availability: a, maxElapsedMs: 60_000 });
  // Another call of the process reaches the database every 5 ms (backoffs are 50 ms and more).
  const other = setInterval(() => a.reached(), 5);
  try {
    assert.equal(await result, 'ok');
  } finally {
    clearInterval(other);
  }
  assert.equal(calls, 6);
  // Each failure marked the database unreachable (else no pause would wait on its return):
  // pauses 1, 3 and 5 ended when it was reached; 2 and 4 slept their full backoff.
  assert.deepEqual(sleeps, [true, true, true]);
  assert.equal(a.unreachable, false);
});

test('a lost database is probed until a probe gets through; the probe wakes the sleepers and then stops', async () => {
  const a = new Availability();
  let probes = 0;
  let up = false;
  const stop = a.probeWith(async () => {
    probes++;
    if (!up) throw refused();
  });
  try {
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS * 2));
    assert.equal(probes, 0, 'nothing is probed while the database is reachable');
    a.lost();
    const sleeping = a.sleep(LONG_MS);
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS * 3));
    assert.ok(probes >= 1, 'probed while lost');
    up = true;
    assert.equal(await sleeping, true, 'the sleeper woke when a probe got through');
    assert.equal(a.unreachable, false);
    const after = probes;
    await new Promise((r) => setTimeout(r, PROBE_EVERY_MS * 3));
    assert.equal(probes, after, 'no probing once the database is back');
  } finally {
    stop();
  }
  a.lost();
  await new Promise((r) => setTimeout(r, PROBE_EVERY_MS * 3));
  assert.equal(a.unreachable, true, 'with its probe stopped, nothing finds the database back');
});
