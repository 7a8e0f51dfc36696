// The printed report: headline numbers against the targets and published references,
// then where the time goes in each scenario.
import type { ChainResult } from '../scenarios/chain.js';
import type { PickupResult } from '../scenarios/pickup.js';
import type { ThroughputResult } from '../scenarios/throughput.js';
import type { Calibration } from '../scenarios/calibrate.js';
import type { Mode } from './cluster.js';
import type { Resources } from './harness.js';
import type { BenchServer } from './postgres.js';
import type { Summary } from './stats.js';

export interface ScenarioOutcome<R> {
  ok: boolean;
  error?: string;
  params: unknown;
  result?: R;
  resources?: Resources | null;
}

/** The JSON of a throughput, chain or pickup run: one scenario, with the machine, database and options it ran on. */
export interface BenchReport {
  schema: 1;
  profile: 'full' | 'quick';
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  git: { commit: string | null; dirty: boolean | null };
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; kernel: string; loadavgAtStart: number[]; loadavgAtEnd: number[] };
  database: { kind: BenchServer['kind']; durable: boolean; pgStatStatements: boolean; settings: Record<string, string> };
  config: { mode: Mode; schedulers: number; workers: number; workerConcurrency: number; keelOptions: Record<string, unknown> };
  calibration: Calibration | null;
  scenarios: {
    throughput?: ScenarioOutcome<ThroughputResult>;
    chain?: ScenarioOutcome<ChainResult>;
    pickup?: ScenarioOutcome<PickupResult>;
  };
}

/** Targets of the issue, and published numbers of other systems for scale. */
export const TARGETS = { tasksPerSec: 1000, chain40Ms: 500, pickupP50Ms: 10 } as const;
export const REFERENCES = {
  airflowTasksPerSec: 285 / 60, // Airflow 2.0, one scheduler: 285 tasks per minute
  graphileJobsPerSec: 3000, // Graphile Worker, no-op jobs, this 2-core machine
  graphilePickupP50Ms: 2,
  chain40Ms: { Airflow: 60_000, Temporal: 3000, 'Windmill (2.4-4.3 s)': 2400 },
} as const;

function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}

export function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return '—';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v)} ms`;
  if (v >= 10) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

const pct = (s: Summary) => `p50 ${fmtMs(s.p50)} · p95 ${fmtMs(s.p95)} · p99 ${fmtMs(s.p99)}`;
const ratio = (v: number) => (Number.isFinite(v) ? (v >= 10 ? `${Math.round(v)}×` : `${v.toFixed(2)}×`) : '—');

function resourcesBlock(r: Resources | null | undefined): string {
  if (!r) return '';
  const cpu = Object.entries(r.cpuSec).filter(([k]) => !k.includes(':')).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)} s${r.cpuSec[`${k}:runners`] !== undefined ? ` (runners ${r.cpuSec[`${k}:runners`]!.toFixed(1)} s)` : ''}`).join(' · ');
  const lines = [`  CPU over ${r.wallSec.toFixed(1)} s: ${cpu} → ${r.coresBusy.toFixed(2)} cores busy${r.otherCpuSec !== null ? `; other load on the machine ${r.otherCpuSec.toFixed(1)} CPU-s` : ''}`];
  if (r.wal) lines.push(`  WAL: ${r.wal.walSync} flushes (${r.wal.walSyncMs} ms in fsync), ${(r.wal.walBytes / 2 ** 20).toFixed(1)} MiB`);
  if (r.database) {
    lines.push(`  Database time by statement (pg_stat_statements; total ${r.database.totalExecMs} ms over ${r.database.statements} statements):`);
    lines.push(table(r.database.top.slice(0, 8).map((s) => ['   ', s.statement, `${s.calls}`, `${s.totalMs} ms`, `${(s.share * 100).toFixed(0)}%`, `mean ${s.meanMs.toFixed(3)} ms`])));
  }
  return lines.join('\n');
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const c = r.config;
  out.push('');
  out.push(`Keel bench (${r.profile}) — ${r.startedAt}, git ${r.git.commit?.slice(0, 10) ?? '?'}${r.git.dirty ? ' + uncommitted src changes' : ''}`);
  out.push(`machine: ${r.machine.cpus} × ${r.machine.cpuModel}, node ${r.machine.node}, load average at start ${r.machine.loadavgAtStart.join(' ')}`);
  out.push(`database: ${r.database.kind} PostgreSQL ${r.database.settings.server_version ?? '?'}, fsync=${r.database.settings.fsync}, synchronous_commit=${r.database.settings.synchronous_commit}, full_page_writes=${r.database.settings.full_page_writes}`);
  const o = c.keelOptions;
  out.push(`roles: ${c.mode === 'processes' ? 'separate processes (node bin/keel.js <role>)' : 'in the bench process (startRole)'}; 1 dag-processor, ${c.schedulers} scheduler, ${c.workers} worker × concurrency ${c.workerConcurrency}`);
  out.push(`options: schedulerBatchSize ${o.schedulerBatchSize}, dbPoolSize ${o.dbPoolSize}, schedulerLoopMs ${o.schedulerLoopMs}, workerPollMs ${o.workerPollMs}, runnerMaxTasks ${o.runnerMaxTasks}, logLevel ${o.logLevel}; default_pool slots 100000`);
  if (r.calibration) out.push(`floor: round trip ${pct(r.calibration.roundTripMs)}; durable commit ${pct(r.calibration.durableCommitMs)}`);

  const rows: string[][] = [];
  const t = r.scenarios.throughput;
  if (t?.result) {
    const x = t.result;
    rows.push([`(a) throughput ${x.runs}×${x.tasksPerRun}`, 'tasks/s, trigger → last end', x.tasksPerSec.toFixed(0) + (x.complete ? '' : ' (timed out)'), `> ${TARGETS.tasksPerSec}`, ratio(x.tasksPerSec / TARGETS.tasksPerSec), x.tasksPerSec > TARGETS.tasksPerSec ? 'yes' : 'no',
      `${ratio(x.tasksPerSec / REFERENCES.airflowTasksPerSec)} Airflow 2.0 (4.75/s); ${ratio(x.tasksPerSec / REFERENCES.graphileJobsPerSec)} Graphile Worker (3,000/s)`]);
    rows.push(['', 'median tasks/s per second', `${x.medianPerSecond}`, '', '', '', '']);
  } else if (t) rows.push(['(a) throughput', 'FAILED', t.error ?? '', '', '', '', '']);
  const ch = r.scenarios.chain;
  if (ch?.result) {
    const x = ch.result;
    const refs = Object.entries(REFERENCES.chain40Ms).map(([k, v]) => `${ratio(v / x.total.p50)} faster than ${k.replace(/ \(.*/, '')}`).join('; ');
    rows.push([`(b) chain of ${x.tasks}, ${x.runs} runs`, 'total, median of runs', fmtMs(x.total.p50), `< ${fmtMs(TARGETS.chain40Ms)}`, ratio(x.total.p50 / TARGETS.chain40Ms), x.total.p50 < TARGETS.chain40Ms ? 'yes' : 'no', refs]);
    rows.push(['', 'per hop', pct(x.hop), '', '', '', '']);
  } else if (ch) rows.push(['(b) chain', 'FAILED', ch.error ?? '', '', '', '', '']);
  const p = r.scenarios.pickup;
  if (p?.result) {
    const x = p.result;
    rows.push([`(c) pickup, ${x.triggers} triggers`, 'trigger → task started', pct(x.pickup), `p50 < ${TARGETS.pickupP50Ms} ms`, ratio(x.pickup.p50 / TARGETS.pickupP50Ms), x.pickup.p50 < TARGETS.pickupP50Ms ? 'yes' : 'no',
      `${ratio(x.pickup.p50 / REFERENCES.graphilePickupP50Ms)} Graphile Worker p50 (2 ms)`]);
  } else if (p) rows.push(['(c) pickup', 'FAILED', p.error ?? '', '', '', '', '']);
  out.push('');
  out.push(table(rows, ['scenario', 'metric', 'Keel', 'target', 'Keel/target', 'met', 'for scale']));

  if (t?.result) {
    const x = t.result;
    out.push('');
    out.push(`(a) throughput: ${x.succeeded}/${x.tasks} succeeded, ${x.failed} failed, ${x.e2eSec.toFixed(2)} s end to end; triggers took ${fmtMs(x.triggerWallMs)}, first task started after ${fmtMs(x.firstTaskStartedMs)}`);
    out.push(`  per-second completions: ${x.perSecond.join(' ')}${x.stallSeconds.length ? ` (stalls in seconds ${x.stallSeconds.join(', ')})` : ''}`);
    out.push(`  every task scheduled after ${fmtMs(x.drainedMs.scheduled)}, queued after ${fmtMs(x.drainedMs.queued)}, started after ${fmtMs(x.drainedMs.started)}, ended after ${fmtMs(x.drainedMs.ended)}`);
    out.push('  time each task instance spent waiting (p50 · mean), database clock:');
    const w = x.waitMs;
    out.push(table([
      ['   ', 'run queued (created → running)', fmtMs(w.runQueued.p50), fmtMs(w.runQueued.mean)],
      ['   ', 'pending → scheduled (examine)', fmtMs(w.pendingToScheduled.p50), fmtMs(w.pendingToScheduled.mean)],
      ['   ', 'scheduled → queued (queueing)', fmtMs(w.scheduledToQueued.p50), fmtMs(w.scheduledToQueued.mean)],
      ['   ', 'queued → started (worker claim)', fmtMs(w.queuedToStarted.p50), fmtMs(w.queuedToStarted.mean)],
      ['   ', 'started → ended (attempt)', fmtMs(w.startedToEnded.p50), fmtMs(w.startedToEnded.mean)],
    ]));
    out.push(`  transactions: ${x.transactions.examine} examine (${x.batch.examine} tasks each), ${x.transactions.queue} queueing (${x.batch.queue} each), ${x.transactions.claim} claims (${x.batch.claim} each), ${x.transactions.end} attempt ends`);
    const res = t.resources;
    if (res && x.succeeded > 0) {
      const per = (v: number | undefined) => (v === undefined ? '—' : `${((v * 1000) / x.succeeded).toFixed(2)}`);
      const cpuTotal = Object.entries(res.cpuSec).filter(([k]) => !k.includes(':')).reduce((a, [, v]) => a + v, 0);
      out.push(`  per task: ${per(cpuTotal)} CPU-ms (postgres ${per(res.cpuSec.postgres)}, worker ${per(res.cpuSec.worker)} of which runners ${per(res.cpuSec['worker:runners'])}, scheduler ${per(res.cpuSec.scheduler)})`
        + `${res.database ? `, ${(res.database.statements / x.succeeded).toFixed(1)} statements` : ''}${res.wal ? `, ${(res.wal.walSync / x.succeeded).toFixed(2)} WAL flushes` : ''}`);
    }
    out.push(resourcesBlock(t.resources));
  }
  if (ch?.result) {
    const x = ch.result;
    out.push('');
    out.push(`(b) chain: runs ${x.states.join(', ')}; totals ${x.totalMs.map(fmtMs).join(', ')}; trigger → run success ${fmtMs(x.toRunEnd.p50)} (p50)`);
    out.push(`  first task: trigger → started ${fmtMs(x.firstTask.total.p50)} = run queued ${fmtMs(x.firstTask.runQueued.p50)} + run start → scheduled ${fmtMs(x.firstTask.runStartedToScheduled.p50)} + → queued ${fmtMs(x.firstTask.scheduledToQueued.p50)} + → started ${fmtMs(x.firstTask.queuedToStarted.p50)} (p50s)`);
    out.push('  one task cycle (hop + attempt), mean per step and share:');
    out.push(table(x.cycle.map((s) => ['   ', s.step, fmtMs(s.meanMs), `${(s.share * 100).toFixed(0)}%`])));
    out.push(`  hop steps p50: end → scheduled ${fmtMs(x.hopSteps.endToScheduled.p50)}, scheduled → queued ${fmtMs(x.hopSteps.scheduledToQueued.p50)}, queued → started ${fmtMs(x.hopSteps.queuedToStarted.p50)}; attempt ${pct(x.taskRun)}`);
    out.push(`  last task ended → run success: ${fmtMs(x.runFinish.p50)} (p50)`);
    out.push(resourcesBlock(ch.resources));
  }
  if (p?.result) {
    const x = p.result;
    out.push('');
    out.push(`(c) pickup: runs ${Object.entries(x.states).map(([k, v]) => `${v} ${k}`).join(', ')}; p50 steps: run queued ${fmtMs(x.steps.runQueued.p50)} → scheduled ${fmtMs(x.steps.runStartedToScheduled.p50)} → queued ${fmtMs(x.steps.scheduledToQueued.p50)} → started ${fmtMs(x.steps.queuedToStarted.p50)}`);
    out.push(`  trigger call (commit acknowledged) ${pct(x.triggerCallMs)}; commit ack → started ${pct(x.commitAckToStarted)}; attempt ${pct(x.taskRun)}`);
    out.push(resourcesBlock(p.resources));
  }
  return out.join('\n');
}
