// The floor under every number: one round trip to the server, and one durable commit (a
// single-row INSERT in autocommit, which waits for the WAL flush). Keel's steps are made of these.
import pg from 'pg';
import { withDatabase } from '../lib/postgres.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface Calibration {
  roundTripMs: Summary;
  durableCommitMs: Summary;
}

export async function calibrate(adminUrl: string, samples: number): Promise<Calibration> {
  const name = `keel_bench_calibrate_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'keel-bench-admin' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
    await admin.query(`CREATE DATABASE ${name}`);
    const c = new pg.Client({ connectionString: withDatabase(adminUrl, name), application_name: 'keel-bench-calibrate' });
    await c.connect();
    try {
      await c.query('CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)');
      const time = async (sql: string, params: unknown[]) => {
        const out: number[] = [];
        for (let i = 0; i < samples + 20; i++) {
          const t = performance.now();
          await c.query(sql, params);
          if (i >= 20) out.push(performance.now() - t); // the first ones warm the connection up
        }
        return summarize(out.map((v) => Math.round(v * 1000) / 1000));
      };
      return { roundTripMs: await time('SELECT $1::int', [1]), durableCommitMs: await time('INSERT INTO t (v) VALUES ($1)', ['x']) };
    } finally {
      await c.end();
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`).catch(() => {});
    await admin.end();
  }
}
