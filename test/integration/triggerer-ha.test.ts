// Triggerers in HA, as real processes: kill -9 of the triggerer holding the triggers moves
// them to the other copy within seconds; a triggerer frozen past its lease loses them, and
// when it wakes and fires anyway, each deferred task still resumes exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { triggerDag } from '../../src/runs/manual-run.js';
import { postExternalEvent } from '../../src/deferral/external-events.js';
import { useCluster, waitFor, waitForRunEnd } from '../support/cluster.js';
import { killAll, spawnKeel, type KeelProcess } from '../support/processes.js';
import { freePort } from '../support/tools.js';
import { afterLoopTurns } from '../support/turns.js';

const DAGS = fileURLToPath(new URL('../fixtures/deferral/', import.meta.url));
const t = useCluster(DAGS, ['df_external', 'df_until'], { workerConcurrency: 4 });

interface Triggerer extends KeelProcess {
  healthPort: number;
}

async function triggerer(leaseSec: number): Promise<Triggerer> {
  const healthPort = await freePort();
  return Object.assign(spawnKeel(['triggerer'], {
    KEEL_DATABASE_URL: t.url, KEEL_DAGS_FOLDER: DAGS, KEEL_DB_OUTAGE_GRACE_SEC: '0',
    KEEL_TRIGGERER_POLL_MS: '200', KEEL_TRIGGER_LEASE_SEC: String(leaseSec), KEEL_HEALTH_PORT: String(healthPort),
  }), { healthPort });
}

/** Triggers the process holds, by its own count (keel_triggers_held). */
async function heldBy(p: Triggerer): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.healthPort}/metrics`)).text();
  return Number(/^keel_triggers_held (\d+)$/m.exec(text)?.[1] ?? NaN);
}

async function componentOf(p: KeelProcess): Promise<string> {
  try {
    return await waitFor(`triggerer ${p.child.pid} to register`, async () =>
      (await t.db.query<{ id: string }>(`SELECT id FROM component WHERE pid = $1 AND state = 'running'`, [p.child.pid])).rows[0]?.id, 30_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}; its output:\n${p.output().slice(-3000)}`, { cause: err });
  }
}

async function holders(runIds: string[]): Promise<(string | null)[]> {
  return (await t.db.query<{ holder_id: string | null }>(`
    SELECT tr.holder_id FROM trigger tr JOIN task_instance ti ON ti.id = tr.task_instance_id
    WHERE ti.dag_run_id = ANY ($1::bigint[]) AND tr.state = 'waiting' ORDER BY tr.id`, [runIds])).rows.map((r) => r.holder_id);
}

/** Waits until every one of the runs' waiting triggers is held by one triggerer. */
async function waitHeldBy(runIds: string[], holder: string, name: string, everyMs = 100): Promise<void> {
  await waitFor(`${name} to hold all ${runIds.length} triggers`, async () => {
    const h = await holders(runIds);
    return h.length === runIds.length && h.every((x) => x === holder);
  }, 30_000, everyMs);
}

/** Per task instance of the runs: its triggers' states and its attempts' states, in order. */
async function books(runIds: string[]) {
  return (await t.db.query<{ triggers: string[]; attempts: string[]; fired_by: string[] }>(`
    SELECT array(SELECT state FROM trigger WHERE task_instance_id = ti.id ORDER BY id) AS triggers,
           array(SELECT fired_by::text FROM trigger WHERE task_instance_id = ti.id ORDER BY id) AS fired_by,
           array(SELECT state FROM task_attempt WHERE task_instance_id = ti.id ORDER BY started_at) AS attempts
    FROM task_instance ti WHERE ti.dag_run_id = ANY ($1::bigint[]) ORDER BY ti.id`, [runIds])).rows;
}

/** Triggerer A holds the triggers of `count` deferred sensors; then triggerer B joins. */
async function heldByAThenB(count: number, leaseSec: number, label: string) {
  const a = await triggerer(leaseSec);
  const aId = await componentOf(a);
  const runs = [];
  for (let i = 0; i < count; i++) runs.push(await triggerDag(t.db, 'df_external', { params: { key: `${label}-${i}-${Date.now()}` } }));
  const runIds = runs.map((r) => r.id);
  await waitHeldBy(runIds, aId, 'A');
  const b = await triggerer(leaseSec);
  const bId = await componentOf(b);
  return { a, aId, b, bId, runs, runIds };
}

/** Posts each run's event and waits for every run to succeed. */
async function approveAll(runs: { id: string; runId: string; params: Record<string, unknown> }[]): Promise<void> {
  for (const r of runs) await postExternalEvent(t.db, r.params.key as string, { run: r.runId });
  for (const r of runs) assert.equal(await waitForRunEnd(t.db, r.id), 'success');
}

/** Each task instance deferred once and resumed once, by a trigger that B fired. */
async function assertResumedOnceBy(runIds: string[], bId: string): Promise<void> {
  for (const row of await books(runIds)) {
    assert.deepEqual(row.triggers, ['fired']);
    assert.deepEqual(row.fired_by, [bId]);
    assert.deepEqual(row.attempts, ['deferred', 'success']);
  }
}

test('kill -9 of the triggerer holding every trigger: the other copy takes them over and each task resumes once', { timeout: 120_000 }, async () => {
  const { a, aId, b, bId, runs, runIds } = await heldByAThenB(6, 10, 'kill');
  try {
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await waitHeldBy(runIds, bId, 'B', 50);
    const takeoverMs = Date.now() - killedAt;
    console.log(`# triggers taken over ${takeoverMs} ms after kill -9 (lease 10 s)`);
    const event = (await t.db.query<{ details: { from: string[] } }>(`SELECT details FROM ha_event WHERE kind = 'triggers_taken_over' AND component_id = $1`, [bId])).rows[0];
    assert.deepEqual(event?.details.from, [aId]);
    await approveAll(runs);
    await assertResumedOnceBy(runIds, bId);
  } finally {
    await killAll([a, b]);
  }
});

test('a triggerer frozen past its lease loses its triggers; waking up, it cannot resume a task a second time', { timeout: 120_000 }, async () => {
  const { a, b, bId, runs, runIds } = await heldByAThenB(4, 2, 'freeze');
  try {
    await waitFor('A to count the four triggers as its own', async () => (await heldBy(a)) === 4);
    a.child.kill('SIGSTOP');
    // A's session lock stays held while it is frozen: only the lease expiry moves the triggers.
    await waitHeldBy(runIds, bId, 'B', 50);
    // The events arrive while A is frozen; A's LISTEN connection queues them for its wake-up.
    await approveAll(runs);
    a.child.kill('SIGCONT');
    // A wakes with four fired triggers it no longer holds: it lets go of them (a renewal finds
    // them gone, or firing one finds it lost), then turns its loop as often as 3 s gives at its 0.2 s poll.
    await waitFor('the woken triggerer to let go of the triggers it lost', async () => (await heldBy(a)) === 0, 30_000, 50);
    await afterLoopTurns(a.healthPort, 15);
    await assertResumedOnceBy(runIds, bId);
    assert.equal(a.child.exitCode, null, 'the woken triggerer is still running');
  } finally {
    await killAll([a, b]);
  }
});
