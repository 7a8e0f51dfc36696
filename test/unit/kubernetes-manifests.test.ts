// The Kubernetes manifests in deploy/kubernetes/ as the API server would see them: every
// overlay rendered with `kubectl kustomize`, every object validated offline against the
// Kubernetes (kubernetes-models) and KEDA (@kubernetes-models/keda) schemas, and the
// policies a Keel deployment must keep: probes, memory limits, a non-root user, a PDB per
// multi-replica Deployment, a termination grace above the worker's drain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as scheduling from 'kubernetes-models/scheduling.k8s.io/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { DockerfileParser } from 'dockerfile-ast';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string> };
type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Record<string, unknown>> = {
  'apps/v1': apps, v1: core, 'policy/v1': policy, 'networking.k8s.io/v1': networking,
  'scheduling.k8s.io/v1': scheduling, 'autoscaling/v2': autoscaling, 'keda.sh/v1alpha1': keda,
};
const OVERLAYS = ['base', 'overlays/keda', 'overlays/hpa'];

function render(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', `deploy/kubernetes/${dir}`], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
}

for (const dir of OVERLAYS) {
  test(`${dir}: every rendered object is valid against its API schema`, () => {
    for (const o of render(dir)) {
      const model = MODELS[o.apiVersion]?.[o.kind] as Model | undefined;
      assert.ok(model, `${dir}: no schema for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new model(o as never).validate(), `${dir}: ${o.kind}/${o.metadata.name}`);
    }
  });

  test(`${dir}: probes, limits, non-root, a PDB per multi-replica Deployment, grace above the drain`, () => {
    const objects = render(dir);
    const options = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'keel-options')!.data!;
    const drainSec = Number(options.KEEL_WORKER_SHUTDOWN_GRACE_SEC);
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget') as unknown as policy.PodDisruptionBudget[];
    for (const d of objects.filter((o) => o.kind === 'Deployment') as unknown as apps.Deployment[]) {
      const pod = d.spec!.template.spec!;
      const name = d.metadata!.name!;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
      assert.ok((pod.securityContext?.runAsUser ?? 0) > 0, `${name}: a non-root uid`);
      for (const c of pod.containers) {
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) assert.ok(c[probe]?.httpGet, `${name}: ${probe}`);
        assert.ok(c.resources?.limits?.memory && c.resources.requests?.cpu, `${name}: requests and a memory limit`);
        assert.ok(c.lifecycle?.preStop, `${name}: a preStop hook`);
      }
      const preStopSec = pod.containers[0]!.lifecycle!.preStop!.sleep?.seconds ?? 0;
      if (d.spec!.template.metadata!.labels!['app.kubernetes.io/component'] === 'worker') {
        assert.ok(pod.terminationGracePeriodSeconds! > drainSec + preStopSec, `${name}: grace ${pod.terminationGracePeriodSeconds} s must exceed preStop ${preStopSec} s + workerShutdownGraceSec ${drainSec} s`);
      }
      const labels = d.spec!.selector.matchLabels!;
      const covered = pdbs.some((p) => Object.entries(p.spec!.selector!.matchLabels!).every(([k, v]) => labels[k] === v));
      if ((d.spec!.replicas ?? 1) > 1) assert.ok(covered, `${name}: ${d.spec!.replicas} replicas need a PodDisruptionBudget`);
      assert.ok(pod.topologySpreadConstraints?.some((t) => t.topologyKey === 'topology.kubernetes.io/zone'), `${name}: spread across zones`);
      assert.ok(pod.affinity?.podAntiAffinity, `${name}: anti-affinity across nodes`);
    }
  });
}

test('the KEDA overlay scales workers to zero on queue depth, with an activation threshold', () => {
  const so = render('overlays/keda').find((o) => o.kind === 'ScaledObject') as unknown as keda.ScaledObject;
  assert.equal(so.spec.minReplicaCount, 0);
  const trigger = so.spec.triggers[0]!;
  assert.equal(trigger.type, 'postgresql');
  assert.match(trigger.metadata.query!, /task_instance/);
  assert.ok('activationTargetQueryValue' in trigger.metadata);
});

test('the Dockerfile: multi-stage, from the lockfile, non-root, tini running keel', () => {
  const file = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8'));
  const instructions = file.getInstructions().map((i) => ({ keyword: i.getKeyword(), args: i.getArgumentsContent() ?? '' }));
  const froms = instructions.filter((i) => i.keyword === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  for (const f of froms) assert.match(f.args, /^node:20-[a-z]+-slim/, 'a slim Node 20 base');
  assert.ok(instructions.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args)), 'dependencies from the lockfile (npm ci)');
  assert.ok(instructions.some((i) => i.keyword === 'COPY' && /package-lock\.json/.test(i.args)));
  const user = instructions.filter((i) => i.keyword === 'USER').at(-1);
  assert.ok(user && !/^(root|0)(:|$)/.test(user.args), 'runs as a non-root user');
  assert.equal(instructions.filter((i) => i.keyword === 'ENTRYPOINT').at(-1)?.args, '["/usr/bin/tini", "--", "keel"]');
  assert.ok(readFileSync('.dockerignore', 'utf8').split('\n').includes('node_modules'), '.dockerignore keeps the host node_modules out');
});
