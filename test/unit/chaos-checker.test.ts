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

function deferredHistory(): ChaosInput {
  const input = healthy();
  // Attempt B deferred (try 1); attempt C resumed it and finished.
  input.taskInstances[0]!.attempt_id = 'C';
  input.attempts[1]!.state = 'deferred';
  input.attempts.push({ attempt_id: 'C', task_instance_id: '10', state: 'success', worker_id: 'w2', started_at: t(3000), ended_at: t(3200) });
  input.history = [
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'A', try_number: 1, event: 'start', at: t(10) },
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'B', try_number: 2, event: 'start', at: t(1610) },
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'B', try_number: 2, event: 'defer', at: t(1620) },
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'C', try_number: 2, event: 'start', at: t(3010) },
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'C', try_number: 2, event: 'resume', at: t(3020) },
    { dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'C', try_number: 2, event: 'finish', at: t(3100) },
  ];
  input.triggers = [{ id: '7', task_instance_id: '10', state: 'fired' }];
  input.faults.push({ kind: 'kill', role: 'triggerer', componentId: 'tg1', at: t(2000), runningAttempts: [] });
  input.takeovers = [{ at: t(2900), from: ['tg1'] }];
  return input;
}

test('a deferral that fired once and resumed once passes, with the triggerer takeover time', () => {
  const r = checkChaos(deferredHistory());
  assert.deepEqual(r.violations, []);
  assert.deepEqual(r.deferrals, { triggers: 1, fired: 1 });
  assert.equal(r.triggerTakeoverMs.p50, 900);
});

test('a lost trigger, a deferral resumed twice, a deferral without its trigger and a flapping DAG are violations', () => {
  const input = deferredHistory();
  input.triggers![0]!.state = 'waiting';
  input.attempts.push({ attempt_id: 'D', task_instance_id: '10', state: 'failed', worker_id: 'w3', started_at: t(3050), ended_at: t(3060) });
  input.history.push({ dag_id: 'd', run_id: 'r', task_id: 'a', attempt_id: 'D', try_number: 2, event: 'resume', at: t(3055) });
  input.attempts.push({ attempt_id: 'E', task_instance_id: '10', state: 'deferred', worker_id: 'w3', started_at: t(3300), ended_at: t(3310) });
  input.flaps = [{ dagId: 'd', at: t(2500) }];
  const v = checkChaos(input).violations.join('\n');
  assert.match(v, /trigger 7 of task instance 10 ended waiting, expected fired/);
  assert.match(v, /task instance 10 try 2: one deferral resumed 2 times/);
  assert.match(v, /task instance 10: 2 deferred attempts but 1 triggers/);
  assert.match(v, /DAG d was inactive/);
});

test('sensors that keep no ledger are exempt from the ledger check only when named', () => {
  const input = healthy();
  input.history = input.history.filter((h) => h.attempt_id !== 'B');
  assert.match(checkChaos(input).violations.join('\n'), /never finished in the ledger/);
  input.unrecordedTasks = ['a'];
  assert.deepEqual(checkChaos(input).violations, []);
});
