// One check of a trigger: has what it waits for happened? Used by the triggerer for
// deferred tasks and by poke-mode sensors inside their runner. Kinds that read Keel's own
// tables (external events, other DAGs' states) need the database and run only in the
// triggerer.
import { stat } from 'node:fs/promises';
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';
import { customTriggers } from './registry.js';
import { DEFAULT_POLL_SEC, type ResumeEnvelope, type TriggerSpec } from './spec.js';

export type PollResult = { fired: true; envelope: ResumeEnvelope } | { fired: false; nextInMs: number };

export interface PollEnv {
  signal: AbortSignal;
  /** Keel's database, for external and dag-state triggers. */
  db?: Database;
  /** The trigger row's id (external triggers default to events since their run was created). */
  triggerId?: string;
  /** Runs a custom trigger's poll; the triggerer runs them in a child process. */
  pollCustom?: (spec: Extract<TriggerSpec, { kind: 'custom' }>) => Promise<unknown>;
}

/** Longest sleep between two checks of a time trigger, so a clock step is noticed. */
const MAX_TIME_WAIT_MS = 60_000;
/** Most of an HTTP body kept in the event. */
const HTTP_BODY_MAX = 64 * 1024;

const notYet = (spec: TriggerSpec): PollResult => ({ fired: false, nextInMs: ('pollSec' in spec && spec.pollSec ? spec.pollSec : DEFAULT_POLL_SEC[spec.kind]) * 1000 });
const fired = (event: unknown): PollResult => ({ fired: true, envelope: { event } });

function needDb(env: PollEnv, kind: string): Database {
  if (!env.db) throw new Error(`a "${kind}" trigger reads Keel's database; use it with a deferrable task or a deferrable sensor, not in poke mode`);
  return env.db;
}

/** Interprets a custom poll's answer: undefined, null or false mean "not yet". */
export function customOutcome(value: unknown): { fired: boolean; event: unknown } {
  if (value === undefined || value === null || value === false) return { fired: false, event: null };
  return { fired: true, event: value === true ? null : value };
}

export async function pollTrigger(spec: TriggerSpec, env: PollEnv): Promise<PollResult> {
  switch (spec.kind) {
    case 'time': {
      const left = Date.parse(spec.at) - Date.now();
      return left <= 0 ? fired({ at: spec.at, firedAt: new Date().toISOString() }) : { fired: false, nextInMs: Math.min(left, MAX_TIME_WAIT_MS) };
    }
    case 'file': {
      try {
        const s = await stat(spec.path);
        return fired({ path: spec.path, size: s.size, mtime: s.mtime.toISOString() });
      } catch {
        return notYet(spec);
      }
    }
    case 'http': {
      let res: Response;
      try {
        res = await fetch(spec.url, { method: spec.method ?? 'GET', signal: AbortSignal.any([env.signal, AbortSignal.timeout((spec.requestTimeoutSec ?? 10) * 1000)]) });
      } catch {
        return notYet(spec); // unreachable for now: look again later
      }
      const body = spec.method === 'HEAD' ? '' : (await res.text().catch(() => '')).slice(0, HTTP_BODY_MAX);
      const statusOk = (spec.expectStatus ?? [200]).includes(res.status);
      if (!statusOk || (spec.bodyContains !== undefined && !body.includes(spec.bodyContains))) return notYet(spec);
      return fired({ url: spec.url, status: res.status, body });
    }
    case 'external': {
      const row = (await needDb(env, spec.kind).query<{ payload: unknown; posted_at: Date }>(sql('deferral/external_event_find'), [spec.key, spec.since ?? null, env.triggerId ?? null])).rows[0];
      return row ? fired({ key: spec.key, payload: row.payload, postedAt: row.posted_at.toISOString() }) : notYet(spec);
    }
    case 'dag-state': {
      const row = (await needDb(env, spec.kind).query<{ run_id: string; run_state: string; task_state: string | null }>(sql('deferral/dag_state_find'), [
        spec.dagId, spec.runId ?? null, spec.logicalDate ?? null, spec.taskId ?? null,
      ])).rows[0];
      const state = spec.taskId ? row?.task_state : row?.run_state;
      if (!row || !state) return notYet(spec);
      const what = `DAG ${spec.dagId} run ${row.run_id}${spec.taskId ? ` task ${spec.taskId}` : ''}`;
      if ((spec.states ?? ['success']).includes(state)) return fired({ dagId: spec.dagId, runId: row.run_id, taskId: spec.taskId ?? null, state });
      const failedStates = spec.failedStates ?? (spec.taskId ? ['failed', 'upstream_failed'] : ['failed']);
      if (failedStates.includes(state)) return { fired: true, envelope: { error: `${what} reached "${state}", one of the failed states (${failedStates.join(', ')})` } };
      return notYet(spec);
    }
    case 'custom': {
      let value: unknown;
      try {
        if (env.pollCustom) value = await env.pollCustom(spec);
        else {
          const def = customTriggers().get(spec.name);
          if (!def) throw new Error(`no trigger named "${spec.name}" is defined; call defineTrigger("${spec.name}", …) in the DAG file or a module it imports`);
          value = await def.poll(spec.args, { signal: env.signal });
        }
      } catch (err) {
        return { fired: true, envelope: { error: `custom trigger "${spec.name}" failed: ${(err as Error).message}` } };
      }
      const outcome = customOutcome(value);
      return outcome.fired ? fired(outcome.event) : notYet(spec);
    }
  }
}
