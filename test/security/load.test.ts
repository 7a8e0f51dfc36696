// Issue 11, the bounded load check: 2,000 requests, 20 at a time, on loopback, against a
// read endpoint and the trigger endpoint with idempotency keys (each key sent 5 times,
// shuffled, so repeats race each other): no request fails and each key makes exactly one
// run. (A regression guard for the security changes, which add checks to every request;
// it held before them too.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { createToken } from '../../src/auth/users.js';
import { ApiClient, useApiCluster } from '../support/api.js';

const DAGS = fileURLToPath(new URL('../fixtures/security/', import.meta.url));
const REQUESTS = 2000;
const CONCURRENCY = 20;
const KEYS = 200;
const REPEATS = (REQUESTS / 2) / KEYS;
// Writes are rate-limited per user (300 a minute by default): this test measures errors, not the limit.
const api = useApiCluster(DAGS, ['sec_dag'], { apiWriteRateLimit: 100000 }, ['dag-processor', 'api']);

test(`${REQUESTS} requests, ${CONCURRENCY} concurrent: no errors and exactly one run per idempotency key`, async () => {
  const client = Object.assign(new ApiClient(api.base), { token: (await createToken(api.t.db, 'ada', 'load', null)).token });
  const triggers = Array.from({ length: KEYS * REPEATS }, (_, i) => `load-key-${i % KEYS}`);
  for (let i = triggers.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [triggers[i], triggers[j]] = [triggers[j]!, triggers[i]!];
  }
  // Reads and triggers interleaved.
  const work = triggers.flatMap((key) => [null, key]);
  const answers: { key: string | null; status: number; runId?: string }[] = [];
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < work.length) {
      const key = work[next++]!;
      const r = key === null ? await client.req('GET', '/api/v1/runs?dagId=sec_dag&limit=10') : await client.req('POST', '/api/v1/dags/sec_dag/runs', {}, { 'idempotency-key': key });
      answers.push({ key, status: r.status, runId: key === null ? undefined : r.body.id });
    }
  }));
  const ms = Date.now() - started;
  const failed = answers.filter((a) => (a.key === null ? a.status !== 200 : a.status !== 201 && a.status !== 200));
  console.log(`# load: ${answers.length} requests in ${ms} ms (${Math.round(answers.length / (ms / 1000))}/s), ${failed.length} failed ${JSON.stringify(failed.slice(0, 5))}`);
  assert.equal(answers.length, REQUESTS);
  assert.equal(failed.length, 0);
  const byKey = new Map<string, { created: number; runs: Set<string> }>();
  for (const a of answers.filter((x) => x.key !== null)) {
    const k = byKey.get(a.key!) ?? { created: 0, runs: new Set() };
    if (a.status === 201) k.created++;
    k.runs.add(a.runId!);
    byKey.set(a.key!, k);
  }
  assert.equal(byKey.size, KEYS);
  for (const [key, k] of byKey) {
    assert.equal(k.created, 1, `${key}: exactly one 201`);
    assert.equal(k.runs.size, 1, `${key}: every answer names the same run`);
  }
  const runs = (await api.t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dag_run WHERE dag_id = 'sec_dag'`)).rows[0]!.n;
  assert.equal(runs, KEYS, 'one run per key in the database');
});
