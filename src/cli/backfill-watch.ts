// `keel dags backfill` and `keel backfills watch`: the progress of a backfill, read from the
// database every POLL_MS until it is done or cancelled. On a terminal, a bar redrawn in place
// (cli-progress: it fits the bar to the terminal's width and hides and restores the cursor);
// otherwise (a pipe, a CI log) one plain line each time the counts change. The time left is
// estimated at the pace of the runs that ended while watching (src/core/backfill-plan.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { secondsLeft } from '../core/backfill-plan.js';
import type { Database } from '../db/database.js';
import { backfillProgress, endedCount, type BackfillProgress } from '../runs/backfill.js';

const POLL_MS = 500;

function duration(sec: number | null): string {
  if (sec === null) return '?';
  if (sec < 60) return `${sec}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(sec % 60).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressLine(p: BackfillProgress, left: number | null): string {
  return `backfill ${p.id} (${p.dagId}): ${endedCount(p)}/${p.total} ended (${p.success} success, ${p.failed} failed, ${p.skipped} skipped), ${p.active} active, ${p.state === 'running' ? `about ${duration(left)} left` : p.state}`;
}

/**
 * Shows the progress until the backfill is no longer running, or until `signal` aborts
 * (Ctrl-C: the backfill goes on without a watcher). Returns the last progress read.
 */
export async function watchBackfill(db: Database, id: string, opts: { tty: boolean; signal: AbortSignal }): Promise<BackfillProgress> {
  const startedAt = performance.now();
  let p = await backfillProgress(db, id);
  const doneAtStart = endedCount(p);
  const left = () => secondsLeft({ total: p.total, ended: endedCount(p), doneAtStart, elapsedSec: (performance.now() - startedAt) / 1000 });
  const payload = () => ({ failed: p.failed, active: p.active, skipped: p.skipped, left: duration(left()) });
  const bar = opts.tty
    ? new cliProgress.SingleBar({
      format: `backfill ${id} {bar} {value}/{total} ended | {failed} failed | {active} active | {left} left`,
      stream: process.stdout, hideCursor: true, clearOnComplete: false, barsize: 30,
    }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(p.total, endedCount(p), payload());
  let last = '';
  for (;;) {
    if (bar) bar.update(endedCount(p), payload());
    else {
      const line = progressLine(p, left());
      // The estimate alone changing is no news in a log.
      const counts = line.replace(/about .* left$/, '');
      if (counts !== last) console.log(line);
      last = counts;
    }
    if (p.state !== 'running' || opts.signal.aborted) break;
    try {
      await sleep(POLL_MS, undefined, { signal: opts.signal });
    } catch (err) {
      if (!opts.signal.aborted) throw err;
      break;
    }
    p = await backfillProgress(db, id);
  }
  bar?.stop();
  return p;
}
