// The KEDA ScaledObject of deploy/kubernetes/keda against a live Keel database: its
// postgresql trigger's own SQL, run on Keel's schema, and the worker count KEDA would ask for
// it, from the ScaledObject's own targets and bounds: none when idle, more as
// the backlog of queued tasks grows, never past maxReplicaCount.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { OPTION_SPECS } from '../../src/config/options.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, type TestCluster } from '../support/cluster.js';

const DAGS = fileURLToPath(new URL('../fixtures/keda/', import.meta.url));

interface Scaling { target: number; activation: number; min: number; max: number }

/**
 * What KEDA asks for (a model of KEDA and the HPA, not Keel code): at or under the activation
 * value a ScaledObject with minReplicaCount 0 scales its target to zero; above it the HPA's
 * AverageValue rule, ceil(value / target), bounded by the minimum (at least 1) and maximum.
 */
function kedaReplicas(value: number, s: Scaling): number {
  if (value <= s.activation && s.min === 0) return 0;
  return Math.min(s.max, Math.max(s.min, 1, Math.ceil(value / s.target)));
}

test('kedaReplicas models KEDA: zero up to the activation value, then ceil(value / target) within the bounds', () => {
  const s = { target: 1, activation: 0, min: 0, max: 20 };
  assert.deepEqual([0, 0.5, 1, 3, 20, 21, 500].map((v) => kedaReplicas(v, s)), [0, 1, 1, 3, 20, 20, 20]);
  assert.deepEqual([0, 2, 3, 7].map((v) => kedaReplicas(v, { target: 2, activation: 2, min: 0, max: 20 })), [0, 0, 2, 4]);
  assert.equal(kedaReplicas(0, { target: 1, activation: 0, min: 2, max: 20 }), 2, 'a minimum above zero holds when idle');
});

let t: TestDatabase;
let cluster: TestCluster;

before(async () => {
  t = await freshDatabase();
  cluster = await startRoles(testOptions(t.url, DAGS), ['dag-processor', 'scheduler']);
  await waitForDag(t.db, 'kd_fanout');
});
after(async () => {
  await cluster?.stop();
  await t?.drop();
});

function scaledObject(): ScaledObject {
  const text = execFileSync('kubectl', ['kustomize', 'deploy/kubernetes/overlays/keda'], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS() as ScaledObject).find((o) => o.kind === 'ScaledObject')!;
}

test('the ScaledObject trigger on a live Keel database: 0 workers idle, ceil(backlog / workerConcurrency) under a backlog, growing with it up to maxReplicaCount', async () => {
  const so = scaledObject();
  const trigger = so.spec.triggers.find((x) => x.type === 'postgresql')!;
  const query = trigger.metadata.query!;
  const scaling: Scaling = {
    target: Number(trigger.metadata.targetQueryValue), activation: Number(trigger.metadata.activationTargetQueryValue ?? 0),
    min: so.spec.minReplicaCount ?? 0, max: so.spec.maxReplicaCount ?? 100,
  };
  const perWorker = Number(/count\(\*\)::numeric \/ (\d+)/.exec(query)![1]);
  assert.equal(perWorker, OPTION_SPECS.workerConcurrency.default, 'the query divides by workerConcurrency (the base sets none: its default)');
  const replicas = async () => {
    const value = Number(Object.values((await t.db.query<Record<string, string | null>>(query)).rows[0]!)[0] ?? 0);
    return { value, replicas: kedaReplicas(value, scaling) };
  };
  const queued = async () => Number((await t.db.query<{ n: string }>(`SELECT count(*) AS n FROM task_instance WHERE state IN ('queued', 'running')`)).rows[0]!.n);

  assert.deepEqual(await replicas(), { value: 0, replicas: 0 }, 'idle: scaled to zero');
  const seen: number[] = [];
  let runs = 0;
  for (const more of [1, 2, 4, 4]) {
    for (let i = 0; i < more; i++) await triggerDag(t.db, 'kd_fanout');
    runs += more;
    const backlog = await waitFor(`${runs * 10} task instances queued`, async () => ((await queued()) === runs * 10 ? runs * 10 : null), 30_000);
    const r = await replicas();
    assert.equal(r.replicas, Math.min(scaling.max, Math.ceil(backlog / perWorker)), `${backlog} queued: ceil(${backlog} / ${perWorker}) workers, at most ${scaling.max}`);
    seen.push(r.replicas);
  }
  assert.deepEqual(seen, [3, 8, 18, 20], 'grows with the backlog, capped at maxReplicaCount');
});
