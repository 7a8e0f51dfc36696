import type { ChaosResult } from '../ops/chaos/harness.js';
import type { AuditOutcome } from '../ha/audit.js';
// Printing for the CLI: aligned tables for people, JSON for scripts.

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const cell = (v: unknown) => (v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(columns));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

export function print(json: boolean, rows: Record<string, unknown>[], columns: string[]): void {
  if (json) printJson(rows);
  else printTable(rows, columns);
}

export function printChaosSummary(r: ChaosResult): void {
  const rep = r.report;
  console.log(`chaos (seed ${r.options.seed}): ${rep.runs} runs, ${rep.taskInstances} task instances, ${rep.attempts} attempts`);
  console.log(`faults: ${rep.faults.kills} kill -9, ${rep.faults.freezes} freezes past the lease`);
  console.log(`detection (worker killed → its attempts fenced): p50 ${rep.detectionMs.p50 ?? '-'} ms, p99 ${rep.detectionMs.p99 ?? '-'} ms over ${rep.detectionMs.samples} attempts`);
  console.log(`recovery (worker killed → its task started again): p50 ${rep.recoveryMs.p50 ?? '-'} ms, p99 ${rep.recoveryMs.p99 ?? '-'} ms, max ${rep.recoveryMs.max ?? '-'} ms over ${rep.recoveryMs.samples} attempts`);
  console.log(`deferrals: ${rep.deferrals.triggers} triggers, ${rep.deferrals.fired} fired; triggerer killed → triggers taken over: p50 ${rep.triggerTakeoverMs.p50 ?? '-'} ms, p99 ${rep.triggerTakeoverMs.p99 ?? '-'} ms over ${rep.triggerTakeoverMs.samples} kills`);
  console.log(`late writes rejected: ${rep.lateWritesRejected}; finishes by fenced attempts in the ledger: ${rep.lateFinishesInHistory}`);
  console.log(`largest heartbeat gap of a component that was not frozen: ${r.maxHeartbeatGapMs ?? '-'} ms`);
  console.log(`overlapping attempts: ${rep.overlaps.length} (${rep.overlaps.filter((o) => o.explainedByFreeze).length} explained by a frozen worker)`);
  if (rep.violations.length === 0) console.log('checker: no violations');
  else {
    console.log(`checker: ${rep.violations.length} violation(s):`);
    for (const v of rep.violations.slice(0, 50)) console.log(`  - ${v}`);
  }
}

export function printAudit(r: AuditOutcome): void {
  console.log('roles (live copies, nodes, zones):');
  printTable(r.roles.map((x) => ({ ...x, expected: x.expected ?? '', nodes: x.nodes.join(','), zones: x.zones.join(',') })), ['role', 'copies', 'expected', 'nodes', 'zones']);
  const c = r.capacity;
  console.log(`worker slots: ${r.workerSlots}; needed at most ${c.nPlus1.needed} at once in the window; without ${c.nPlus1.lost.join(', ') || '(no node)'}: ${c.nPlus1.slotsLeft} (N+1 ${c.nPlus1.ok ? 'ok' : 'FAILS'}); without ${c.nPlus2.lost.join(' and ') || '(no node)'}: ${c.nPlus2.slotsLeft} (N+2 ${c.nPlus2.ok ? 'ok' : 'fails'})`);
  if (r.findings.length === 0) console.log('no single point of failure found');
  for (const f of r.findings) console.log(`${f.severity === 'spof' ? 'SPOF   ' : 'warning'}  ${f.what}\n         fix: ${f.fix}`);
  console.log(r.ok ? 'audit: ok' : 'audit: single points of failure found (exit 1)');
}
