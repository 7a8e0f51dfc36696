// Ending an attempt, the one write path for a task instance's outcome, used by workers
// (success, failure, timeout) and by schedulers (fencing an expired lease). The update is
// conditional on the attempt id, so an attempt that was fenced cannot overwrite anything;
// its late write is recorded as an HA event instead.
// Rules "at most one live attempt" and "late writes rejected": src/fencing/INVARIANTS.md;
// docs/decisions/0001-attempt-ids-are-fencing-tokens.md.
import { taskCallbackFor } from '../core/callbacks.js';
import { decideRetry } from '../core/retry-policy.js';
import type { RetryPolicy, SerializedTask } from '../core/types.js';
import type { Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { recordCallback } from '../runs/callbacks.js';

export type AttemptOutcome = { kind: 'success'; result: unknown } | { kind: 'failure'; error: string; attemptState?: 'failed' | 'fenced' };

export interface EndAttemptInput {
  taskInstanceId: string;
  attemptId: string;
  tryNumber: number;
  /** Tries this task instance may use in all (a clear grants more). */
  maxTries: number;
  policy: RetryPolicy;
  /** The task's definition, for its callbacks (undefined: it is gone from its DAG version, no callback). */
  task?: Pick<SerializedTask, 'taskId' | 'callbacks' | 'queue'>;
  outcome: AttemptOutcome;
  /** The attempt was lost with its worker, not failed by its task: a retry is due at once. */
  retryNow?: boolean;
  /** Full attempt log; undefined keeps what is stored. */
  log?: string;
  componentId: string | null;
  /** Wake the schedulers about the run (default true); false when the caller decides the run itself. */
  notify?: boolean;
}

export interface EndAttemptResult {
  accepted: boolean;
  state: 'success' | 'failed' | 'up_for_retry';
  dagRunId: string | null;
}

export async function endAttempt(tx: Tx, input: EndAttemptInput): Promise<EndAttemptResult> {
  const { outcome } = input;
  let state: EndAttemptResult['state'] = 'success';
  let delay: number | null = null;
  if (outcome.kind === 'failure') {
    const retry = decideRetry({ ...input.policy, retries: input.maxTries - 1 }, input.tryNumber);
    state = retry.retry ? 'up_for_retry' : 'failed';
    delay = retry.retry ? (input.retryNow ? 0 : retry.delaySec) : null;
  }
  const res = await tx.query<{ dag_run_id: string }>(sql('fencing/task_instance_end_attempt'), [
    input.taskInstanceId,
    input.attemptId,
    state,
    outcome.kind === 'success' ? JSON.stringify(outcome.result ?? null) : null,
    outcome.kind === 'failure' ? outcome.error : null,
    delay,
  ]);
  const dagRunId = res.rows[0]?.dag_run_id ?? null;
  const accepted = dagRunId !== null;
  const attemptState = outcome.kind === 'success' ? 'success' : (outcome.attemptState ?? 'failed');
  if (accepted) {
    await tx.query(sql('fencing/task_attempt_end'), [input.attemptId, attemptState, outcome.kind === 'failure' ? outcome.error : null, input.log ?? null]);
    // The task's end and the retry decision are made here and only here: so is their callback's record.
    const kind = input.task ? taskCallbackFor(input.task, state) : null;
    if (kind && input.task) {
      await recordCallback(tx, { kind, dagRunId, taskId: input.task.taskId, tryNumber: input.tryNumber }, input.task.queue, {
        state, error: outcome.kind === 'failure' ? outcome.error : null,
      });
    }
    if (input.notify !== false) await tx.query(sql('db/notify_scheduler'), [dagRunId]);
  } else {
    await recordLateWrite(tx, input, outcome.kind);
  }
  return { accepted, state, dagRunId };
}

/** The attempt was fenced already: keep its log, record the rejected write, change nothing else. */
export async function recordLateWrite(
  tx: Tx,
  input: { taskInstanceId: string; attemptId: string; log?: string; componentId: string | null },
  outcome: string,
): Promise<void> {
  await tx.query(sql('fencing/task_attempt_end'), [input.attemptId, 'fenced', null, input.log ?? null]);
  await tx.query(sql('ha/ha_event_insert'), ['late_write_rejected', input.componentId, {
    taskInstanceId: input.taskInstanceId, attemptId: input.attemptId, outcome,
  }]);
}
