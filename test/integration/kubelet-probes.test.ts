// The Deployments of deploy/kubernetes/ run as a kubelet runs them, without the container:
// each role started with its container's own command and args (the image's ENTRYPOINT
// `tini -- keel` is `node bin/keel.js`), the image's ENV, then envFrom (ConfigMap, Secret),
// then env; probed exactly as its startup, readiness and liveness probes say; stopped as the
// kubelet stops a pod: the preStop hook, then SIGTERM, then SIGKILL once
// terminationGracePeriodSeconds (counted from the preStop) are over.
//
// What stands in for the node: the test database's URL for KEEL_DATABASE_URL, the fixture
// folder for /dags, a fresh directory for each emptyDir volume (a value under its mountPath
// moves with it), a free loopback port for each containerPort (the pod's own network
// namespace), 127.0.0.1 for 0.0.0.0, and an empty working directory for the image's
// read-only root filesystem, which must still be empty afterwards.
// Probe periods and initial delays are divided by TIME_SCALE to keep the test short, and the
// startup and liveness failure thresholds multiplied by it, so that a process still has the
// time the manifest gives it before the kubelet would restart it (a busy test machine starts
// Keel slower than a node). Timeouts, the preStop sleep and the grace period are as written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DockerfileParser } from 'dockerfile-ast';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IContainer, IProbe } from 'kubernetes-models/v1';
import { freePort } from '../../src/free-port.js';
import { triggerDag } from '../../src/runs/manual-run.js';
import { freshDatabase, type TestDatabase } from '../support/db.js';
import { startRoles, testOptions, waitFor, waitForDag, type TestCluster } from '../support/cluster.js';
import { spawnKeel, type KeelProcess } from '../support/processes.js';

/** Probe periods and initial delays run this many times faster than written. */
const TIME_SCALE = 5;
const DAGS = fileURLToPath(new URL('../fixtures/kubelet/', import.meta.url));

interface Rendered { deployments: IDeployment[]; data: Map<string, Record<string, string>> }

function render(dir: string): Rendered {
  const text = execFileSync('kubectl', ['kustomize', `deploy/kubernetes/${dir}`], { encoding: 'utf8' });
  const objects = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; stringData?: Record<string, string> });
  const data = new Map<string, Record<string, string>>();
  for (const o of objects) if (o.kind === 'ConfigMap' || o.kind === 'Secret') data.set(`${o.kind}/${o.metadata.name}`, { ...o.data, ...o.stringData });
  return { deployments: objects.filter((o) => o.kind === 'Deployment') as unknown as IDeployment[], data };
}

/** The final stage's ENTRYPOINT, CMD and ENV of the Dockerfile. */
function image(): { entrypoint: string[]; cmd: string[]; env: Record<string, string> } {
  const all = DockerfileParser.parse(readFileSync('Dockerfile', 'utf8')).getInstructions();
  const last = all.slice(all.map((i) => i.getKeyword()).lastIndexOf('FROM'));
  const json = (k: string) => JSON.parse(last.filter((i) => i.getKeyword() === k).at(-1)!.getArgumentsContent()!) as string[];
  const env: Record<string, string> = {};
  for (const i of last.filter((x) => x.getKeyword() === 'ENV')) {
    for (const pair of i.getArgumentsContent()!.split(/\s+/)) {
      const at = pair.indexOf('=');
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD'), env };
}

/** `keel …` as the container would exec it (tini forwards signals to it, as a direct child does). */
function keelArgs(c: IContainer): string[] {
  const { entrypoint, cmd } = image();
  const argv = [...(c.command ?? entrypoint), ...(c.args ?? (c.command ? [] : cmd))];
  const keel = argv.indexOf('keel');
  assert.ok(keel >= 0 && argv.slice(0, keel).every((a) => a === '/usr/bin/tini' || a === '--'), `the container runs keel: ${argv.join(' ')}`);
  return argv.slice(keel + 1);
}

interface Pod { args: string[]; env: Record<string, string>; ports: Map<string | number, number>; root: string; volumes: string[] }

/** The container's process environment and ports, with the node's stand-ins (see the top of the file). */
async function podFor(r: Rendered, d: IDeployment, url: string): Promise<Pod> {
  const spec = d.spec!.template.spec!;
  const c = spec.containers[0]!;
  const ports = new Map<string | number, number>();
  const byContainerPort = new Map<string, string>();
  for (const p of c.ports ?? []) {
    const host = await freePort();
    ports.set(p.containerPort, host);
    if (p.name) ports.set(p.name, host);
    byContainerPort.set(String(p.containerPort), String(host));
  }
  const root = mkdtempSync(join(tmpdir(), 'keel-kubelet-root-'));
  const mounts = new Map<string, string>();
  for (const m of c.volumeMounts ?? []) {
    const volume = spec.volumes!.find((v) => v.name === m.name)!;
    assert.ok(volume.emptyDir, `${m.name}: only emptyDir volumes are stood in for`);
    mounts.set(m.mountPath, mkdtempSync(join(tmpdir(), `keel-kubelet-${m.name}-`)));
  }
  const env: Record<string, string> = { ...image().env };
  for (const from of c.envFrom ?? []) {
    const key = from.configMapRef ? `ConfigMap/${from.configMapRef.name}` : `Secret/${from.secretRef!.name}`;
    Object.assign(env, r.data.get(key));
  }
  // The downward API as the kubelet fills it in: the node this pod runs on.
  const fields: Record<string, string> = { 'spec.nodeName': 'kubelet-test-node' };
  for (const e of c.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    assert.ok(e.value !== undefined || (field !== undefined && field in fields), `${e.name}: a literal value or a fieldRef the test stands in for (${Object.keys(fields).join(', ')})`);
    env[e.name] = e.value ?? fields[field!]!;
  }
  for (const [k, v] of Object.entries(env)) {
    if (byContainerPort.has(v)) env[k] = byContainerPort.get(v)!;
    else if (v === '0.0.0.0') env[k] = '127.0.0.1';
    for (const [path, dir] of mounts) if (v === path || v.startsWith(`${path}/`)) env[k] = dir + v.slice(path.length);
  }
  Object.assign(env, { KEEL_DATABASE_URL: url, KEEL_DAGS_FOLDER: DAGS, KEEL_LOG_LEVEL: 'info' });
  return { args: keelArgs(c), env, ports, root, volumes: [...mounts.values()] };
}

/** One HTTP GET as the kubelet sends it: a new connection, success for 200-399, a timeout. */
function httpGet(port: number, path: string, timeoutMs: number): Promise<number | 'refused' | 'timeout'> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' }, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('timeout', () => { req.destroy(); resolve('timeout'); });
    req.on('error', () => resolve('refused'));
    req.end();
  });
}

const passed = (r: number | string) => typeof r === 'number' && r >= 200 && r < 400;

interface Transition { at: number; ok: boolean; result: number | string }

/**
 * A probe worker of the kubelet: every periodSeconds after initialDelaySeconds, one GET;
 * the probe's state flips after successThreshold successes or failureThreshold failures in a row.
 */
class Prober {
  readonly transitions: Transition[] = [];
  readonly results: { at: number; result: number | string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private okRun = 0;
  private failRun = 0;
  private state: boolean | null = null;
  private stopped = false;

  constructor(readonly name: string, private readonly probe: IProbe, private readonly ports: Map<string | number, number>) {}

  start(onChange: (t: Transition) => void = () => {}): void {
    const get = this.probe.httpGet!;
    const port = this.ports.get(get.port)!;
    const period = ((this.probe.periodSeconds ?? 10) * 1000) / TIME_SCALE;
    const tick = async () => {
      if (this.stopped) return;
      const result = await httpGet(port, get.path!, (this.probe.timeoutSeconds ?? 1) * 1000);
      if (this.stopped) return;
      this.results.push({ at: Date.now(), result });
      if (passed(result)) { this.okRun++; this.failRun = 0; } else { this.failRun++; this.okRun = 0; }
      const next = this.okRun >= (this.probe.successThreshold ?? 1) ? true : this.failRun >= (this.probe.failureThreshold ?? 3) ? false : this.state;
      if (next !== this.state && next !== null) {
        this.state = next;
        const t = { at: Date.now(), ok: next, result };
        this.transitions.push(t);
        onChange(t);
      }
      this.timer = setTimeout(() => void tick(), period);
    };
    this.timer = setTimeout(() => void tick(), ((this.probe.initialDelaySeconds ?? 0) * 1000) / TIME_SCALE);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

interface Started { pod: Pod; proc: KeelProcess; startedAt: number; readyAt: number; readiness: Prober; liveness: Prober; container: IContainer; grace: number }

/** Starts the container and probes it: startup until it passes (or the kubelet would restart it), then readiness and liveness. */
async function startContainer(r: Rendered, d: IDeployment, url: string): Promise<Started> {
  const c = d.spec!.template.spec!.containers[0]!;
  const pod = await podFor(r, d, url);
  const startedAt = Date.now();
  const proc = spawnKeel(pod.args, pod.env, { cwd: pod.root });
  const sameBudget = (p: IProbe): IProbe => ({ ...p, failureThreshold: (p.failureThreshold ?? 3) * TIME_SCALE });
  const startup = new Prober('startup', sameBudget(c.startupProbe!), pod.ports);
  const started = await new Promise<Transition>((resolve) => startup.start(resolve));
  startup.stop();
  assert.equal(started.ok, true, `${d.metadata!.name}: the startup probe failed ${c.startupProbe!.failureThreshold} times: the kubelet would restart it\n${proc.output()}`);
  const readiness = new Prober('readiness', c.readinessProbe!, pod.ports);
  const ready = new Promise<Transition>((resolve) => readiness.start(resolve));
  const liveness = new Prober('liveness', sameBudget(c.livenessProbe!), pod.ports);
  const live = new Promise<Transition>((resolve) => liveness.start(resolve));
  const readyAt = (await ready).at;
  assert.equal(readiness.transitions[0]!.ok, true, `${d.metadata!.name} became ready`);
  assert.equal((await live).ok, true, `${d.metadata!.name}: the liveness probe failed ${c.livenessProbe!.failureThreshold} times: the kubelet would restart it`);
  return { pod, proc, startedAt, readyAt, readiness, liveness, container: c, grace: d.spec!.template.spec!.terminationGracePeriodSeconds ?? 30 };
}

interface Stopped { sigtermAt: number; offAt: number; offResult: number | string; exitAt: number; exitCode: number | string; probedWhileDraining: (number | string)[] }

/**
 * Deletes the pod as the kubelet does: preStop sleep, SIGTERM, SIGKILL at the end of the grace
 * period. Meanwhile readiness is polled back to back, to time the first answer that is not
 * ready (503, 404 or a refused connection) against the exit.
 */
async function deletePod(s: Started): Promise<Stopped> {
  const graceEnds = Date.now() + s.grace * 1000;
  await new Promise((r) => setTimeout(r, (s.container.lifecycle!.preStop!.sleep!.seconds) * 1000));
  const get = s.container.readinessProbe!.httpGet!;
  const port = s.pod.ports.get(get.port)!;
  let exitAt = 0;
  const exited = s.proc.exited.then((code) => { exitAt = Date.now(); return code; });
  const sigtermAt = Date.now();
  s.proc.child.kill('SIGTERM');
  let off: { at: number; result: number | string } | null = null;
  while (!exitAt && !off) {
    const result = await httpGet(port, get.path!, 1000);
    if (!passed(result) && !exitAt) off = { at: Date.now(), result };
  }
  const killer = setTimeout(() => s.proc.child.kill('SIGKILL'), Math.max(0, graceEnds - Date.now()));
  const exitCode = await exited;
  clearTimeout(killer);
  s.readiness.stop();
  s.liveness.stop();
  assert.ok(off, `readiness went off only when the process exited\n${s.proc.output()}`);
  const probedWhileDraining = s.readiness.results.filter((r) => r.at > sigtermAt && r.at < exitAt).map((r) => r.result);
  return { sigtermAt, offAt: off.at, offResult: off.result, exitAt, exitCode, probedWhileDraining };
}

function cleanUp(s: Started): void {
  assert.deepEqual(readdirSync(s.pod.root), [], 'nothing written to the read-only root filesystem (only to the emptyDir volumes)');
  for (const dir of [s.pod.root, ...s.pod.volumes]) rmSync(dir, { recursive: true, force: true });
}

let t: TestDatabase;
const clusters: TestCluster[] = [];
const procs: KeelProcess[] = [];

before(async () => {
  t = await freshDatabase();
});
after(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const c of clusters) await c.stop();
  await t?.drop();
});

const roleOf = (d: IDeployment) => d.spec!.template.metadata!.labels!['app.kubernetes.io/component']!;

test('scheduler, dag-processor, triggerer and api of the base: startup → ready; after preStop and SIGTERM not ready before the exit, exit 0 inside the grace period', async (ctx) => {
  const base = render('base');
  const roles = base.deployments.filter((d) => roleOf(d) !== 'worker');
  assert.deepEqual(roles.map(roleOf).sort(), ['api', 'dag-processor', 'scheduler', 'triggerer']);
  const results = await Promise.all(roles.map(async (d) => {
    const s = await startContainer(base, d, t.url);
    procs.push(s.proc);
    const preStopAt = Date.now();
    const stopped = await deletePod(s);
    return { role: roleOf(d), s, preStopAt, stopped };
  }));
  for (const { role, s, preStopAt, stopped } of results) {
    ctx.diagnostic(`${role}: ready ${s.readyAt - s.startedAt} ms after its start; not ready ${stopped.offAt - stopped.sigtermAt} ms and exited ${stopped.exitAt - stopped.sigtermAt} ms after SIGTERM`);
    assert.ok(!s.liveness.transitions.some((x) => !x.ok && x.at < stopped.sigtermAt), `${role}: live while running`);
    assert.ok(stopped.offAt < stopped.exitAt, `${role}: readiness off (${stopped.offResult}) before the exit`);
    assert.equal(stopped.exitCode, 0, `${role}: a clean exit, not SIGKILL\n${s.proc.output()}`);
    assert.ok(stopped.exitAt - preStopAt < s.grace * 1000, `${role}: exited ${stopped.exitAt - preStopAt} ms after the preStop began, inside ${s.grace} s`);
    cleanUp(s);
  }
  const api = results.find((x) => x.role === 'api')!;
  assert.equal(api.stopped.offResult, 404, 'the API answers 404 while it drains (apiDrainSec)');
  assert.ok(api.stopped.exitAt - api.stopped.sigtermAt >= Number(base.data.get('ConfigMap/keel-options')!.KEEL_API_DRAIN_SEC) * 1000, 'and keeps serving for apiDrainSec');
});

test('a spot worker preempted with a task running: not ready at once, the attempt handed back inside the grace period, the task run by another worker', async (ctx) => {
  const spot = render('overlays/spot');
  const d = spot.deployments.find((x) => roleOf(x) === 'worker')!;
  const rest = await startRoles(testOptions(t.url, DAGS), ['dag-processor', 'scheduler']);
  clusters.push(rest);
  await waitForDag(t.db, 'kb_long');
  const s = await startContainer(spot, d, t.url);
  procs.push(s.proc);
  const run = await triggerDag(t.db, 'kb_long');
  const ti = () => t.db.query<{ id: string; state: string; try_number: number; attempt_id: string | null }>('SELECT id, state, try_number, attempt_id FROM task_instance WHERE dag_run_id = $1', [run.id]).then((q) => q.rows[0]!);
  const running = await waitFor('the task to run on the manifest worker', async () => {
    const row = await ti();
    return row.state === 'running' ? row : null;
  }, 30_000);
  const preStopAt = Date.now();
  const stopped = await deletePod(s);

  assert.equal(stopped.offResult, 503, 'a draining worker answers 503 on /health/ready');
  assert.ok(stopped.offAt - stopped.sigtermAt < 1000, 'not ready at once');
  const drainSec = Number(s.pod.env.KEEL_WORKER_SHUTDOWN_GRACE_SEC);
  assert.ok(stopped.probedWhileDraining.length > 0 && stopped.probedWhileDraining.every((r) => r === 503), `every readiness probe during the drain failed: ${stopped.probedWhileDraining.join(', ')}`);
  assert.ok(s.container.readinessProbe!.periodSeconds! < drainSec, 'unscaled too, at least one readiness probe falls inside the drain');
  assert.ok(stopped.exitAt - stopped.sigtermAt >= drainSec * 1000, `the running attempt had workerShutdownGraceSec (${drainSec} s) to finish`);
  assert.equal(stopped.exitCode, 0, `a clean exit, not SIGKILL\n${s.proc.output()}`);
  assert.ok(stopped.exitAt - preStopAt < s.grace * 1000, `exited ${stopped.exitAt - preStopAt} ms after the preStop began, inside ${s.grace} s`);
  cleanUp(s);
  ctx.diagnostic(`worker: ready ${s.readyAt - s.startedAt} ms after its start; not ready ${stopped.offAt - stopped.sigtermAt} ms and exited ${stopped.exitAt - stopped.sigtermAt} ms after SIGTERM (${stopped.exitAt - preStopAt} ms of its ${s.grace} s grace)`);

  const attempt = await t.db.query<{ state: string }>('SELECT state FROM task_attempt WHERE attempt_id = $1', [running.attempt_id]);
  assert.equal(attempt.rows[0]!.state, 'handed_back');
  const back = await ti();
  assert.equal(back.state, 'queued', 'queued again');
  assert.equal(back.try_number, 0, 'the handed-back try is not counted');

  const other = await startRoles(testOptions(t.url, DAGS), ['worker']);
  clusters.push(other);
  const again = await waitFor('the task to run on another worker', async () => {
    const row = await ti();
    return row.state === 'running' ? row : null;
  }, 30_000);
  assert.notEqual(again.attempt_id, running.attempt_id);
  assert.equal(again.try_number, 1);
});
