// The API's answer shape (src/api/response-case.ts): camelCase names, UTC `Z` times,
// user data passed on untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { camelCase, toApiShape, toRun } from '../../src/api/response-case.js';

test('snake_case names become camelCase at every depth', () => {
  assert.equal(camelCase('heartbeat_age_sec'), 'heartbeatAgeSec');
  assert.equal(camelCase('dagId'), 'dagId');
  assert.deepEqual(toApiShape({ dag_id: 'd', recent_runs: [{ run_name: 'x', try_number: 2 }] }), { dagId: 'd', recentRuns: [{ runName: 'x', tryNumber: 2 }] });
});

test('times are ISO 8601 UTC with Z, from Date objects and from jsonb text with an offset', () => {
  const shaped = toApiShape({ started_at: new Date('2026-01-31T10:30:00+01:00'), logicalDate: '2026-01-31T09:30:00.123+00:00', at: '2026-01-31 09:30:00+00', note: '2026-01-31T09:30:00+02:00' }) as Record<string, unknown>;
  assert.equal(shaped.startedAt, '2026-01-31T09:30:00.000Z');
  assert.equal(shaped.logicalDate, '2026-01-31T09:30:00.123Z');
  assert.equal(shaped.at, '2026-01-31T09:30:00.000Z');
  assert.equal(shaped.note, '2026-01-31T09:30:00+02:00', 'only time fields are times: other text stays as it is');
});

test('user data keeps its own keys and values', () => {
  const data = { params: { batch_size: 5, when_at: '2026-01-31T09:30:00+02:00' }, result: { row_count: 1 }, payload: { a_b: 1 }, extra: { api_token: '***' }, serialized: { task_list: [] } };
  assert.deepEqual(toApiShape(data), data);
});

test('a run names its text id runName; runId stays the numeric id', () => {
  assert.deepEqual(toApiShape(toRun({ id: '7', run_id: 'manual__x', dag_id: 'd' })), { id: '7', runName: 'manual__x', dagId: 'd' });
});
