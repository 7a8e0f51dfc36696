// Every bench kind in one place, in the order `npm run bench` runs them. `--only=<kind>,…`
// picks some (default: the kinds marked `default`), `--list` lists them. Each kind's flags,
// defaults and code live in its module under bench/kinds/.
import type { BenchKind } from './lib/kind.js';
import * as ha from './kinds/ha.js';
import * as parsing from './kinds/parsing.js';
import * as pgHa from './kinds/pg-ha.js';
import * as replicaReads from './kinds/replica-reads.js';
import { runSuiteKind, SUITE_FLAGS } from './kinds/suite.js';
import * as triggers from './kinds/triggers.js';

export interface RegisteredKind extends BenchKind {
  /** Run by `npm run bench` without --only. */
  default?: boolean;
}

export const KINDS: readonly RegisteredKind[] = [
  {
    name: 'throughput', default: true, takes: '≈ 1–2 min', limitMin: 6,
    about: '(a) 10,000 no-op tasks in 100 runs × 100 triggered at once: tasks per second, first trigger → last task end',
    flags: { ...SUITE_FLAGS, runs: { type: 'string', about: 'runs of 100 tasks (default 100; 10 with --quick)' } },
    run: (flags, ctx) => runSuiteKind('throughput', flags, ctx),
  },
  {
    name: 'chain', default: true, takes: '≈ 30 s', limitMin: 4,
    about: '(b) a 40-task sequential chain of no-op tasks: trigger → run success, and each hop (upstream end → downstream start)',
    flags: { ...SUITE_FLAGS, runs: { type: 'string', about: 'chain runs (default 5; 2 with --quick)' } },
    run: (flags, ctx) => runSuiteKind('chain', flags, ctx),
  },
  {
    name: 'pickup', default: true, takes: '≈ 30 s', limitMin: 4,
    about: '(c) manual triggers one at a time: trigger accepted → task started',
    flags: { ...SUITE_FLAGS, pickups: { type: 'string', about: 'measured triggers (default 50; 10 with --quick)' } },
    run: (flags, ctx) => runSuiteKind('pickup', flags, ctx),
  },
  {
    name: 'ha', takes: '≈ 7 min', limitMin: 20,
    about: '(d)–(g) throughput with 1, 2, 3 schedulers; a worker killed or frozen and a scheduler killed: detection and recovery times',
    flags: ha.FLAGS, run: ha.run,
  },
  {
    name: 'parsing', takes: '≈ 25 s', limitMin: 5,
    about: 'DAG parsing throughput with 1 and 2 DAG processors on a generated folder of DAG files',
    flags: parsing.FLAGS, run: parsing.run,
  },
  {
    name: 'triggers', takes: '≈ 5 min', limitMin: 20,
    about: 'deferred tasks: event posted → resumed attempt running; the triggerer holding them killed or frozen: takeover time',
    flags: triggers.FLAGS, run: triggers.run,
  },
  {
    name: 'replica-reads', takes: '≈ 1 min', limitMin: 10, needs: 'Debian postgresql-15 (a primary and a pg_basebackup standby)',
    about: "the API's heavy reads with and without a streaming replica: the load taken off the primary",
    flags: replicaReads.FLAGS, run: replicaReads.run,
  },
  {
    name: 'pg-ha', takes: '≈ 5–11 min', limitMin: 30, needs: 'Debian patroni etcd-server etcd-client haproxy pgbouncer postgresql-15; root',
    about: "database HA on a 3-node Patroni cluster: per-hop latency, synchronous replication's cost, Keel's resume after each failover kind",
    flags: pgHa.FLAGS, run: pgHa.run,
  },
];
