import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkChaos, type ChaosInput } from '../../src/ops/chaos/checker.js';

const t = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

function healthy(): ChaosInput {
  return {
    acked: [{ runDbId: '1', dagId: 'd' }],
    runs: [{ id: '1', dag_id: 'd', logical_date: t(0), state: 'success' }],
    taskInstances: [{ id: '10', dag_run_id: '1', task_id: 'a', state: 'success', attempt_id: 'B' }],
    attempts: [
      { attempt_id: 'A', task_instance_id: '10', state: 'fenced', worker_id: 'w1', started_at: t(0), ended_at: t(1500) },
      { attempt_id: 'B', task_instance_id: '10', state: 'success', worker_id: 'w2', started_at: t(1600), ended_at: t(2000) },
    ],
    history: [
      { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'A', event: 'start', at: t(10) },
      { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'B', event: 'start', at: t(1610) },
      { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'B', event: 'finish', at: t(1990) },
    ],
    lateWritesRejected: 0,
    faults: [{ kind: 'kill', role: 'worker', componentId: 'w1', at: t(1000), runningAttempts: ['A'] }],
    fenced: [{ attemptId: 'A', at: t(1500) }],
  };
}

test('a clean history passes and yields detection and recovery times', () => {
  const r = checkChaos(healthy());
  assert.deepEqual(r.violations, []);
  assert.equal(r.detectionMs.p50, 500);
  assert.equal(r.recoveryMs.p50, 610);
});

test('a lost acknowledged run, a duplicate run and an unfinished run are violations', () => {
  const input = healthy();
  input.acked.push({ runDbId: '2', dagId: 'd' });
  input.runs.push({ id: '3', dag_id: 'd', logical_date: t(0), state: 'running' });
  const v = checkChaos(input).violations.join('\n');
  assert.match(v, /acknowledged run 2 of d is missing/);
  assert.match(v, /duplicate run d@/);
});

test('two accepted results for one task instance are a violation', () => {
  const input = healthy();
  input.attempts[0]!.state = 'success';
  input.history.push({ dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'A', event: 'finish', at: t(1400) });
  const v = checkChaos(input).violations.join('\n');
  assert.match(v, /has 2 accepted results/);
  assert.match(v, /second attempt A was accepted/);
});

test('overlapping attempts are a violation unless a frozen worker explains them', () => {
  const input = healthy();
  input.history.push({ dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'A', event: 'finish', at: t(1800) });
  const r = checkChaos(input);
  assert.equal(r.overlaps.length, 1);
  assert.match(r.violations.join('\n'), /overlapped by 190 ms/);
  input.faults.push({ kind: 'freeze', role: 'worker', componentId: 'w1', at: t(5), until: t(1700), runningAttempts: ['A'] });
  const explained = checkChaos(input);
  assert.equal(explained.overlaps[0]!.explainedByFreeze, true);
  assert.deepEqual(explained.violations, []);
  assert.equal(explained.lateFinishesInHistory, 1);
});
