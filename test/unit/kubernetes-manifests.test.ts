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
import * as discovery from 'kubernetes-models/discovery.k8s.io/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { DockerfileParser } from 'dockerfile-ast';
import { OPTION_SPECS } from '../../src/config/options.js';

type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string>; stringData?: Record<string, string> };
type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Record<string, unknown>> = {
  'apps/v1': apps, v1: core, 'policy/v1': policy, 'networking.k8s.io/v1': networking,
  'scheduling.k8s.io/v1': scheduling, 'autoscaling/v2': autoscaling, 'keda.sh/v1alpha1': keda,
  'discovery.k8s.io/v1': discovery,
};
/** GKE's custom resources, which no kubernetes-models package here describes: checked field by field below. */
const STRUCTURAL: Record<string, (o: K8sObject) => void> = {
  'networking.gke.io/v1 ManagedCertificate': (o) => {
    const domains = (o.spec as { domains?: unknown }).domains;
    assert.ok(Array.isArray(domains) && domains.length > 0 && domains.every((d) => typeof d === 'string' && /^[a-z0-9.-]+$/.test(d)), `${o.metadata.name}: spec.domains`);
  },
  'cloud.google.com/v1 BackendConfig': (o) => {
    const hc = (o.spec as { healthCheck?: Record<string, unknown> }).healthCheck;
    assert.ok(hc, `${o.metadata.name}: spec.healthCheck`);
    assert.ok(['HTTP', 'HTTPS', 'HTTP2'].includes(hc.type as string), 'healthCheck.type');
    assert.match(hc.requestPath as string, /^\//, 'healthCheck.requestPath');
    for (const k of ['port', 'checkIntervalSec', 'timeoutSec', 'healthyThreshold', 'unhealthyThreshold']) assert.ok(Number.isInteger(hc[k]) && (hc[k] as number) > 0, `healthCheck.${k}`);
    assert.ok((hc.timeoutSec as number) <= (hc.checkIntervalSec as number), 'timeoutSec <= checkIntervalSec');
  },
};
const OVERLAYS = ['base', 'overlays/keda', 'overlays/hpa', 'overlays/spot', 'overlays/aws', 'overlays/gcp', 'overlays/onprem'];
const KNOWN_ENV = new Set<string>(Object.values(OPTION_SPECS).map((spec) => spec.env));

function deployments(objects: K8sObject[]): apps.Deployment[] {
  return objects.filter((o) => o.kind === 'Deployment') as unknown as apps.Deployment[];
}

function allContainers(d: apps.Deployment): core.IContainer[] {
  const pod = d.spec!.template.spec!;
  return [...(pod.initContainers ?? []), ...pod.containers];
}

function roleOf(d: apps.Deployment): string {
  return d.spec!.template.metadata!.labels!['app.kubernetes.io/component']!;
}

function render(dir: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', `deploy/kubernetes/${dir}`], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS() as K8sObject);
}

for (const dir of OVERLAYS) {
  test(`${dir}: every rendered object is valid against its API schema`, () => {
    for (const o of render(dir)) {
      const structural = STRUCTURAL[`${o.apiVersion} ${o.kind}`];
      if (structural) {
        structural(o);
        continue;
      }
      const model = MODELS[o.apiVersion]?.[o.kind] as Model | undefined;
      assert.ok(model, `${dir}: no schema for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new model(o as never).validate(), `${dir}: ${o.kind}/${o.metadata.name}`);
    }
  });

  test(`${dir}: every KEEL_* variable is a Keel option`, () => {
    const objects = render(dir);
    const names = [
      ...objects.filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret').flatMap((o) => Object.keys({ ...o.data, ...o.stringData })),
      ...deployments(objects).flatMap((d) => allContainers(d).flatMap((c) => (c.env ?? []).map((e) => e.name))),
    ].filter((n) => n.startsWith('KEEL_'));
    for (const n of names) assert.ok(KNOWN_ENV.has(n), `${dir}: ${n} is no option in src/config/options.ts`);
  });

  test(`${dir}: probes, limits, non-root, a PDB per multi-replica Deployment, grace above the drain`, () => {
    const objects = render(dir);
    const options = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'keel-options')!.data!;
    const optionDrainSec = Number(options.KEEL_WORKER_SHUTDOWN_GRACE_SEC);
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
      for (const c of pod.initContainers ?? []) {
        assert.equal(c.restartPolicy, 'Always', `${name}: init container ${c.name} is a sidecar`);
        assert.ok(c.startupProbe?.httpGet && c.livenessProbe?.httpGet, `${name}: sidecar ${c.name} probes`);
        assert.ok(c.resources?.limits?.memory && c.resources.requests?.cpu, `${name}: sidecar ${c.name} requests and a memory limit`);
      }
      const preStopSec = pod.containers[0]!.lifecycle!.preStop!.sleep?.seconds ?? 0;
      const ownDrain = pod.containers[0]!.env?.find((e) => e.name === 'KEEL_WORKER_SHUTDOWN_GRACE_SEC')?.value;
      const drainSec = ownDrain === undefined ? optionDrainSec : Number(ownDrain);
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

function secretOf(objects: K8sObject[]): Record<string, string> {
  return objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'keel-secrets')!.stringData!;
}

function optionsOf(objects: K8sObject[]): Record<string, string> {
  return objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'keel-options')!.data!;
}

function apiReadiness(objects: K8sObject[]): { path: string; port: number } {
  const api = deployments(objects).find((d) => roleOf(d) === 'api')!.spec!.template.spec!.containers[0]!;
  const probe = api.readinessProbe!.httpGet!;
  const port = api.ports!.find((p) => p.name === probe.port || p.containerPort === probe.port)!.containerPort;
  return { path: probe.path!, port };
}

/** A failover must end well inside the attempt lease: a worker self-fences after 80 % of it without the database. */
function assertLeaseOutlasts(objects: K8sObject[], failoverSec: number): void {
  const options = optionsOf(objects);
  assert.ok(Number(options.KEEL_ATTEMPT_LEASE_SEC) * 0.8 >= failoverSec, `80 % of attemptLeaseSec ${options.KEEL_ATTEMPT_LEASE_SEC} s must outlast a ${failoverSec} s failover`);
  assert.ok(Number(options.KEEL_DB_CONNECT_RETRY_SEC) > failoverSec, 'a pod starting during a failover retries past it');
  assert.ok(Number(options.KEEL_DB_RETRY_DEADLINE_MS ?? OPTION_SPECS.dbRetryDeadlineMs.default) >= failoverSec * 1000, 'a transaction is retried through the failover');
}

test('the spot overlay: only workers tolerate spot taints and prefer spot nodes; their stop fits a 15 s preemption', () => {
  const objects = render('overlays/spot');
  for (const d of deployments(objects)) {
    const pod = d.spec!.template.spec!;
    if (roleOf(d) !== 'worker') {
      assert.equal(pod.tolerations, undefined, `${d.metadata!.name} stays off spot nodes`);
      continue;
    }
    const keys = pod.tolerations!.map((t) => t.key);
    assert.deepEqual(keys.sort(), ['cloud.google.com/gke-spot', 'eks.amazonaws.com/capacityType', 'keel.dev/spot']);
    const preferred = pod.affinity!.nodeAffinity!.preferredDuringSchedulingIgnoredDuringExecution!;
    assert.deepEqual(preferred.map((p) => p.preference.matchExpressions![0]!.key).sort(), keys.sort(), 'prefers the nodes it tolerates');
    assert.equal(pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution, undefined, 'falls back to regular nodes');
    const c = pod.containers[0]!;
    const drain = Number(c.env!.find((e) => e.name === 'KEEL_WORKER_SHUTDOWN_GRACE_SEC')!.value);
    assert.ok(pod.terminationGracePeriodSeconds! <= 15, 'GKE gives non-system pods 15 s on preemption');
    assert.ok(c.lifecycle!.preStop!.sleep!.seconds + drain + 3 <= pod.terminationGracePeriodSeconds!, 'preStop + drain + 3 s to hand back fit the grace');
  }
});

test('the AWS overlay: three zones, RDS writer and reader endpoints, ALB checks on Keel readiness, IRSA for workers', () => {
  const objects = render('overlays/aws');
  for (const d of deployments(objects)) {
    const pod = d.spec!.template.spec!;
    const zones = pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions![0]!;
    assert.equal(zones.key, 'topology.kubernetes.io/zone');
    assert.equal(zones.values!.length, 3);
    assert.equal(pod.topologySpreadConstraints![0]!.whenUnsatisfiable, 'DoNotSchedule');
  }
  const secret = secretOf(objects);
  assert.match(secret.KEEL_DATABASE_URL!, /@[a-z0-9-]+\.cluster-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com:5432\/.*sslmode=verify-full/, 'the cluster (writer) endpoint');
  assert.match(secret.KEEL_READ_DATABASE_URL!, /@[a-z0-9-]+\.cluster-ro-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com:5432\//, 'the reader endpoint');
  assertLeaseOutlasts(objects, 35);
  const ingress = objects.find((o) => o.kind === 'Ingress')!;
  const a = ingress.metadata.annotations!;
  assert.equal((ingress.spec as { ingressClassName?: string }).ingressClassName, 'alb');
  assert.equal(a['alb.ingress.kubernetes.io/target-type'], 'ip');
  assert.equal(a['alb.ingress.kubernetes.io/healthcheck-path'], apiReadiness(objects).path, 'the ALB checks what the readiness probe checks');
  assert.equal(a['alb.ingress.kubernetes.io/success-codes'], '200', 'a draining copy (404) is taken out');
  const worker = deployments(objects).find((d) => roleOf(d) === 'worker')!.spec!.template.spec!;
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === worker.serviceAccountName)!;
  assert.match(sa.metadata.annotations!['eks.amazonaws.com/role-arn']!, /^arn:aws:iam::\d{12}:role\//);
  assert.equal(worker.containers[0]!.env!.find((e) => e.name === 'KEEL_TASK_ENV_ALLOW')!.value, 'AWS_*', 'task code sees the IRSA credentials');
});

test('the GCP overlay: a Cloud SQL Auth Proxy native sidecar per role, GCE Ingress with a managed certificate and a BackendConfig on Keel readiness', () => {
  const objects = render('overlays/gcp');
  const secret = secretOf(objects);
  const ports = [secret.KEEL_DATABASE_URL!, secret.KEEL_READ_DATABASE_URL!].map((u) => {
    const url = new URL(u);
    assert.equal(url.hostname, '127.0.0.1', 'through the pod\'s own proxy');
    return url.port;
  });
  for (const d of deployments(objects)) {
    const pod = d.spec!.template.spec!;
    const proxy = pod.initContainers!.find((c) => c.name === 'cloud-sql-proxy')!;
    assert.equal(proxy.restartPolicy, 'Always', `${d.metadata!.name}: a native sidecar, stopped after Keel`);
    assert.match(proxy.image!, /cloud-sql-proxy:2\./);
    for (const port of ports) assert.ok(proxy.args!.some((x) => x.endsWith(`?port=${port}`)), `${d.metadata!.name}: the proxy listens on ${port}`);
    assert.ok(proxy.args!.includes('--exit-zero-on-sigterm'));
    assert.equal(pod.serviceAccountName, 'keel');
  }
  assertLeaseOutlasts(objects, 120);
  const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'keel')!;
  assert.match(sa.metadata.annotations!['iam.gke.io/gcp-service-account']!, /@.*\.iam\.gserviceaccount\.com$/);
  const ingress = objects.find((o) => o.kind === 'Ingress')!;
  assert.equal(ingress.metadata.annotations!['kubernetes.io/ingress.class'], 'gce');
  const cert = objects.find((o) => o.kind === 'ManagedCertificate')!;
  assert.equal(ingress.metadata.annotations!['networking.gke.io/managed-certificates'], cert.metadata.name);
  const hosts = (ingress.spec as { rules: { host: string }[] }).rules.map((r) => r.host);
  assert.deepEqual((cert.spec as { domains: string[] }).domains, hosts, 'the certificate covers the Ingress hosts');
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'keel-api')!;
  const backend = JSON.parse(service.metadata.annotations!['cloud.google.com/backend-config']!) as { default: string };
  const bc = objects.find((o) => o.kind === 'BackendConfig' && o.metadata.name === backend.default)!;
  const hc = (bc.spec as { healthCheck: { requestPath: string; port: number } }).healthCheck;
  assert.deepEqual({ path: hc.requestPath, port: hc.port }, apiReadiness(objects), 'the load balancer checks what the readiness probe checks');
  assert.deepEqual(JSON.parse(service.metadata.annotations!['cloud.google.com/neg']!), { ingress: true }, 'container-native load balancing');
});

test('the on-premises overlay: PgBouncer, HAProxy read-write and read-only behind the keepalived VIP', () => {
  const objects = render('overlays/onprem');
  const secret = secretOf(objects);
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'keel-postgres')! as unknown as core.Service;
  const slice = objects.find((o) => o.kind === 'EndpointSlice')! as unknown as discovery.EndpointSlice;
  assert.equal(slice.metadata!.labels!['kubernetes.io/service-name'], service.metadata!.name);
  const vip = slice.endpoints[0]!.addresses[0]!;
  assert.match(readFileSync('deploy/keepalived/keepalived.conf', 'utf8'), new RegExp(`^\\s+${vip.replaceAll('.', '\\.')}/\\d+$`, 'm'), 'the VIP keepalived holds');
  const portOf = (name: string) => service.spec!.ports!.find((p) => p.name === name)!.port;
  const urls = { KEEL_DATABASE_URL: 'pgbouncer', KEEL_SESSION_DATABASE_URL: 'read-write', KEEL_READ_DATABASE_URL: 'read-only' };
  for (const [env, port] of Object.entries(urls)) {
    const url = new URL(secret[env]!);
    assert.equal(url.hostname, service.metadata!.name, `${env} names the VIP's Service`);
    assert.equal(Number(url.port), portOf(port), `${env} on the ${port} port`);
  }
  assert.match(readFileSync('deploy/pgbouncer/pgbouncer.ini', 'utf8'), /^pool_mode = transaction$/m, 'sessions bypass PgBouncer because it pools transactions');
  assertLeaseOutlasts(objects, 11);
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
