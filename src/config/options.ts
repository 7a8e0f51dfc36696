// Every Keel option in one table: its environment variable, config-file key, default and
// meaning. docs/configuration.md is generated from this list (`keel config --markdown`,
// `npm run docs:config`), and a unit test fails when the two drift apart.
import { z } from 'zod';
import { parseAddressList } from './address-list.js';

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const positiveNumber = z.coerce.number().positive();
/** A hundred years: the longest lifetime PostgreSQL intervals and dates comfortably hold. */
const MAX_LIFETIME_SEC = 100 * 365 * 86400;
const lifetimeSec = positiveInt.min(60).max(MAX_LIFETIME_SEC);

/** A comma-separated list of addresses, CIDR ranges and named ranges (see src/config/address-list.ts), as CIDR ranges. */
const addressList = z.union([z.string(), z.array(z.string())]).transform((v, ctx) => {
  const list = parseAddressList(Array.isArray(v) ? v.join(',') : v);
  if (list.ok) return list.ranges;
  ctx.issues.push({ code: 'custom', message: list.problem, input: v });
  return z.NEVER;
});

/**
 * The proxies in front of the API whose forwarded headers count: false (none) or their
 * addresses. Neither `true` (every hop) nor a hop count: either would let a client that
 * reaches the API directly choose its own address with X-Forwarded-For and escape the
 * per-address rate limits (Fastify itself ignores hop counts for that reason).
 */
const trustProxy = z.union([z.boolean(), z.string(), z.array(z.string())]).transform((v, ctx): false | string[] => {
  if (v === false || v === 'false') return false;
  const text = Array.isArray(v) ? v.join(',') : String(v);
  if (v === true || text === 'true' || /^\s*\d+\s*$/.test(text)) {
    ctx.issues.push({ code: 'custom', message: 'give the addresses of the proxies in front of Keel (e.g. 10.0.0.5,10.0.0.6 or 10.0.0.0/24), not true or a hop count: those would trust whatever a client sends in X-Forwarded-For', input: v });
    return z.NEVER;
  }
  const list = parseAddressList(text);
  if (list.ok) return list.ranges;
  ctx.issues.push({ code: 'custom', message: list.problem, input: v });
  return z.NEVER;
});

export const OPTION_SPECS = {
  databaseUrl: {
    env: 'KEEL_DATABASE_URL',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'PostgreSQL URL. Unset: Keel starts an embedded PostgreSQL in `dataDir`. Several hosts ride through failover: `postgres://u:p@db1:5432,db2:5432/keel?target_session_attrs=read-write` (Keel connects to the first host that is writable). May point at PgBouncer in transaction pooling (then set `sessionDatabaseUrl`).',
  },
  sessionDatabaseUrl: {
    env: 'KEEL_SESSION_DATABASE_URL',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Direct PostgreSQL URL (not through PgBouncer transaction pooling) for what needs a real session: each component\'s session (advisory lock, heartbeats) and its LISTEN connection. Unset: `databaseUrl`.',
  },
  readDatabaseUrl: {
    env: 'KEEL_READ_DATABASE_URL',
    schema: z.string().min(1).optional(),
    default: undefined,
    doc: 'Read replica URL for the API\'s heavy reads (lists, grids, logs), used while its replay lag is under `replicaMaxLagMs`; scheduling never reads from it. Unset: everything reads from the primary.',
  },
  replicaMaxLagMs: {
    env: 'KEEL_REPLICA_MAX_LAG_MS',
    schema: positiveInt,
    default: 2000,
    doc: 'Heavy API reads go to `readDatabaseUrl` only while its replay lag behind the primary is under this (checked every second); otherwise they go to the primary.',
  },
  dataDir: {
    env: 'KEEL_DATA_DIR',
    schema: z.string().min(1),
    default: '.keel',
    doc: 'Folder for the embedded PostgreSQL data (`<dataDir>/pgdata`) and its log.',
  },
  embeddedPort: {
    env: 'KEEL_EMBEDDED_PORT',
    schema: positiveInt.max(65535),
    default: 54329,
    doc: 'Loopback port of the embedded PostgreSQL.',
  },
  dagsFolder: {
    env: 'KEEL_DAGS_FOLDER',
    schema: z.string().min(1),
    default: 'dags',
    doc: 'Folder scanned for DAG files (`.ts`, `.mts`, `.js`, `.mjs`).',
  },
  logLevel: {
    env: 'KEEL_LOG_LEVEL',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    default: 'info',
    doc: 'Log level of Keel processes.',
  },
  logFormat: {
    env: 'KEEL_LOG_FORMAT',
    schema: z.enum(['pretty', 'json']),
    default: 'pretty',
    doc: '`pretty` for terminals, `json` for log shippers.',
  },
  dbPoolSize: {
    env: 'KEEL_DB_POOL_SIZE',
    schema: positiveInt,
    default: 10,
    doc: 'Connections per process.',
  },
  dbConnectRetrySec: {
    env: 'KEEL_DB_CONNECT_RETRY_SEC',
    schema: nonNegativeInt,
    default: 30,
    doc: 'How long a starting process retries an unreachable database (with backoff) before it exits non-zero.',
  },
  schedulerLoopMs: {
    env: 'KEEL_SCHEDULER_LOOP_MS',
    schema: positiveInt,
    default: 1000,
    doc: 'Polling fallback of the scheduler loop; it also wakes at once on NOTIFY.',
  },
  schedulerBatchSize: {
    env: 'KEEL_SCHEDULER_BATCH_SIZE',
    schema: positiveInt,
    default: 200,
    doc: 'DAG runs examined and task instances queued per scheduler transaction.',
  },
  maxCatchupRunsPerLoop: {
    env: 'KEEL_MAX_CATCHUP_RUNS_PER_LOOP',
    schema: positiveInt,
    default: 50,
    doc: 'Catch-up runs created per DAG per scheduler loop (the rest follow in later loops).',
  },
  workerConcurrency: {
    env: 'KEEL_WORKER_CONCURRENCY',
    schema: positiveInt,
    default: 4,
    doc: 'Runner processes per worker: attempts that run at once.',
  },
  workerQueues: {
    env: 'KEEL_WORKER_QUEUES',
    schema: z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean))).pipe(z.array(z.string().min(1)).min(1)),
    default: 'default',
    doc: 'Comma-separated queues this worker claims from.',
  },
  workerPollMs: {
    env: 'KEEL_WORKER_POLL_MS',
    schema: positiveInt,
    default: 1000,
    doc: 'Polling fallback of the worker; it also wakes at once on NOTIFY.',
  },
  attemptLeaseSec: {
    env: 'KEEL_ATTEMPT_LEASE_SEC',
    schema: positiveNumber,
    default: 45,
    doc: 'Lease of a running attempt, renewed every 5 s (or a third of it, if shorter). It covers silent failures (frozen worker, network cut): an expired lease fences the attempt, and a worker that could not renew for 80 % of it kills its attempts first. A dead worker process is detected sooner (`workerLostAfterSec`). Long enough to ride out a 30 s database failover.',
  },
  heartbeatMs: {
    env: 'KEEL_HEARTBEAT_MS',
    schema: positiveInt,
    default: 500,
    doc: 'Heartbeat interval of every component, on its own database session.',
  },
  componentDeadAfterSec: {
    env: 'KEEL_COMPONENT_DEAD_AFTER_SEC',
    schema: positiveNumber,
    default: 5,
    doc: 'A component whose heartbeat is older than this is marked dead (it rejoins if it heartbeats again).',
  },
  flapWindowSec: {
    env: 'KEEL_FLAP_WINDOW_SEC',
    schema: positiveNumber,
    default: 600,
    doc: 'Window of health flapping: a component declared dead and rejoining more than `flapThreshold` times in this many seconds is reported as flapping (`keel_components_flapping`, alert KeelHealthFlapping).',
  },
  flapThreshold: {
    env: 'KEEL_FLAP_THRESHOLD',
    schema: positiveInt,
    default: 2,
    doc: 'Rejoins after being declared dead, within `flapWindowSec`, above which a component is flapping. One false death under a load spike is counted (`keel_ha_events_total{kind="component_rejoined"}`) but is not yet flapping.',
  },
  nodeName: {
    env: 'KEEL_NODE_NAME',
    schema: z.string().min(1).max(253).optional(),
    default: undefined,
    doc: 'The machine this process runs on, the failure domain `keel ha audit` counts copies by (on Kubernetes, the node: `spec.nodeName` through the downward API; a pod\'s hostname is the pod). Unset: the hostname.',
  },
  zone: {
    env: 'KEEL_ZONE',
    schema: z.string().min(1).max(253).optional(),
    default: undefined,
    doc: 'The zone or rack of this process, for `keel ha audit` (on Kubernetes, the node\'s `topology.kubernetes.io/zone` label). Unset: zones are not audited.',
  },
  expectedCopies: {
    env: 'KEEL_EXPECTED_COPIES',
    schema: z.string().transform((v, ctx) => {
      const copies: Record<string, number> = {};
      for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
        const m = /^(scheduler|worker|dag-processor|triggerer|api)=(\d+)$/.exec(part);
        if (!m) {
          ctx.issues.push({ code: 'custom', message: `"${part}" is not role=count (roles: scheduler, worker, dag-processor, triggerer, api), e.g. scheduler=2,worker=3`, input: v });
          return z.NEVER;
        }
        copies[m[1]!] = Number(m[2]);
      }
      return copies;
    }),
    default: '',
    doc: 'Copies of each role the deployment is meant to run, as `role=count,…` (e.g. `scheduler=2,worker=3,dag-processor=2,triggerer=2,api=2`): exported as `keel_role_copies_expected{role}` for the KeelRoleBelowConfiguredCopies alert and read by `keel ha audit`. Unset: no role has a configured count.',
  },
  patroniUrl: {
    env: 'KEEL_PATRONI_URL',
    schema: z.string().url().optional(),
    default: undefined,
    doc: 'REST API of a Patroni member (e.g. `http://10.0.0.11:8008`): `keel ha audit` reads the cluster\'s members from its `/cluster`. Unset: Patroni is not audited.',
  },
  etcdEndpoints: {
    env: 'KEEL_ETCD_ENDPOINTS',
    schema: z.string().optional(),
    default: undefined,
    doc: 'etcd client URLs, comma-separated (e.g. `http://10.0.0.11:2379,http://10.0.0.12:2379`): `keel ha audit` counts the members of the cluster Patroni keeps its leader key in. Unset: etcd is not audited.',
  },
  workerLostAfterSec: {
    env: 'KEEL_WORKER_LOST_AFTER_SEC',
    schema: positiveNumber,
    default: 1,
    doc: "A worker whose session lock is gone (its process died) and whose heartbeat is older than this has its attempts fenced and retried at once.",
  },
  orphanSweepMs: {
    env: 'KEEL_ORPHAN_SWEEP_MS',
    schema: positiveInt,
    default: 250,
    doc: 'How often each scheduler looks for attempts of dead workers.',
  },
  dbOutageGraceSec: {
    env: 'KEEL_DB_OUTAGE_GRACE_SEC',
    schema: nonNegativeInt,
    default: 15,
    doc: 'After a database disruption (any component reconnected) or server start, nothing is fenced and no component marked dead for this long, so that the fleet can reconnect and renew its leases.',
  },
  dbQueryTimeoutMs: {
    env: 'KEEL_DB_QUERY_TIMEOUT_MS',
    schema: positiveInt,
    default: 10000,
    doc: 'Client-side limit of one database call, so that a silent network cannot hang a loop.',
  },
  dbTransactionIdleTimeoutMs: {
    env: 'KEEL_DB_TRANSACTION_IDLE_TIMEOUT_MS',
    schema: positiveInt,
    default: 5000,
    doc: 'The server ends a Keel transaction left idle this long (its process froze or lost the network mid-transaction), releasing its row locks for the other copies.',
  },
  dbConnectTimeoutMs: {
    env: 'KEEL_DB_CONNECT_TIMEOUT_MS',
    schema: positiveInt,
    default: 5000,
    doc: 'Limit to open one database connection (TCP, TLS, authentication, and the primary check of a multi-host URL); past it the next host is tried.',
  },
  dbStatementTimeoutMs: {
    env: 'KEEL_DB_STATEMENT_TIMEOUT_MS',
    schema: positiveInt.optional(),
    default: undefined,
    doc: 'Server-side limit of one statement (`SET LOCAL statement_timeout` in each transaction, so it also works through PgBouncer). Unset: `dbQueryTimeoutMs`.',
  },
  dbKeepaliveIdleMs: {
    env: 'KEEL_DB_KEEPALIVE_IDLE_MS',
    schema: positiveInt,
    default: 10000,
    doc: 'TCP keepalive of every database connection: first probe after it was idle this long, so a connection to a vanished server is noticed.',
  },
  dbRetryDeadlineMs: {
    env: 'KEEL_DB_RETRY_DEADLINE_MS',
    schema: positiveInt,
    default: 30000,
    doc: 'A transaction that fails on a transient error (connection lost, server shutting down, read-only after a failover, serialization, deadlock) is retried with backoff and jitter for this long.',
  },
  dbReadPoolSize: {
    env: 'KEEL_DB_READ_POOL_SIZE',
    schema: positiveInt,
    default: 5,
    doc: 'Connections per process to the read replica (`readDatabaseUrl`).',
  },
  dbPrimaryCheckMs: {
    env: 'KEEL_DB_PRIMARY_CHECK_MS',
    schema: nonNegativeInt,
    default: 2000,
    doc: "Split-brain guard: how often each component checks that its session's server is the primary the database URL reaches (same system identifier and timeline, not in recovery). A component that is not stops taking work. 0: off.",
  },
  healthPort: {
    env: 'KEEL_HEALTH_PORT',
    schema: z.coerce.number().int().min(0).max(65535).optional(),
    default: undefined,
    doc: 'Serve `/health/live`, `/health/ready` and `/metrics` on this port (loopback unless `healthHost`); unset: no server. 0 picks a free port.',
  },
  healthHost: {
    env: 'KEEL_HEALTH_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the health server listens on.',
  },
  metricsAllow: {
    env: 'KEEL_METRICS_ALLOW',
    schema: addressList,
    default: 'loopback,uniquelocal',
    doc: 'Client addresses that may read `/metrics` (API server and health server): addresses, CIDR ranges, `loopback`, `linklocal`, `uniquelocal` (10/8, 172.16/12, 192.168/16, fc00::/7). Behind a proxy the client address counts only with `apiTrustProxy` set. Others get 403.',
  },
  metricsToken: {
    env: 'KEEL_METRICS_TOKEN',
    schema: z.string().min(16).optional(),
    default: undefined,
    doc: 'When set (16+ characters), `/metrics` also needs `Authorization: Bearer <metricsToken>` (Prometheus: `authorization: { credentials: … }`); 401 otherwise.',
  },
  workerShutdownGraceSec: {
    env: 'KEEL_WORKER_SHUTDOWN_GRACE_SEC',
    schema: nonNegativeInt,
    default: 30,
    doc: 'On SIGTERM, how long running attempts may finish before they are handed back.',
  },
  runnerMemoryMb: {
    env: 'KEEL_RUNNER_MEMORY_MB',
    schema: positiveInt,
    default: 512,
    doc: 'Heap limit of each runner process; a task past it fails with "out of memory".',
  },
  runnerSpares: {
    env: 'KEEL_RUNNER_SPARES',
    schema: nonNegativeInt,
    default: 4,
    doc: 'Warm runner processes a worker keeps idle beyond its concurrency, each for the DAG it served last. A worker that runs tasks of more DAGs than its concurrency then starts fewer runners (about 1 CPU-second each); each spare holds about 50 MB.',
  },
  runnerMaxTasks: {
    env: 'KEEL_RUNNER_MAX_TASKS',
    schema: positiveInt,
    default: 500,
    doc: 'Attempts a warm runner process serves before it is replaced by a fresh one. A warm runner serves one DAG only.',
  },
  taskEnvAllow: {
    env: 'KEEL_TASK_ENV_ALLOW',
    schema: z.union([z.string(), z.array(z.string())]).optional().transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean)))
      .pipe(z.array(z.string().regex(/^(?!KEEL_)[A-Za-z_][A-Za-z0-9_]*\*?$/, 'a variable name, or a prefix ending in *, not starting with KEEL_ (Keel\'s own settings never reach task code)'))),
    default: undefined,
    doc: 'Comma-separated environment variables that task code (runners, shell tasks, custom triggers, DAG file loading) gets from the worker\'s environment besides PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG, LANGUAGE, LC_*, TZ, TMPDIR, the proxy variables and CA files; `AWS_*` names a prefix. Everything else, Keel\'s own KEEL_* settings included, is withheld.',
  },
  taskResultMaxBytes: {
    env: 'KEEL_TASK_RESULT_MAX_BYTES',
    schema: positiveInt,
    default: 1048576,
    doc: "Largest JSON result a task may return (it is stored for downstream tasks).",
  },
  taskLogMaxBytes: {
    env: 'KEEL_TASK_LOG_MAX_BYTES',
    schema: positiveInt,
    default: 5242880,
    doc: 'Log kept per attempt; the rest is cut with a note.',
  },
  dagFileTimeoutSec: {
    env: 'KEEL_DAG_FILE_TIMEOUT_SEC',
    schema: positiveNumber,
    default: 30,
    doc: 'Time limit to load one DAG file; past it the file is an import error.',
  },
  dagBundleMaxBytes: {
    env: 'KEEL_DAG_BUNDLE_MAX_BYTES',
    schema: positiveInt,
    default: 10 * 1024 * 1024,
    doc: 'Largest DAG bundle (a DAG file and the local modules it imports, stored in the database for workers); a larger one is an import error naming its largest files.',
  },
  dagScanIntervalSec: {
    env: 'KEEL_DAG_SCAN_INTERVAL_SEC',
    schema: positiveNumber,
    default: 5,
    doc: 'How often each DAG processor lists the folder for new, changed and deleted files; changes seen by the folder watcher are parsed at once, so this is the fallback.',
  },
  dagReparseIntervalSec: {
    env: 'KEEL_DAG_REPARSE_INTERVAL_SEC',
    schema: positiveNumber,
    default: 300,
    doc: 'Unchanged files are parsed again after this long (they may import changed modules).',
  },
  dagParseConcurrency: {
    env: 'KEEL_DAG_PARSE_CONCURRENCY',
    schema: positiveInt,
    default: 2,
    doc: 'DAG files each DAG processor loads at once: each in its own loader process, kept warm for the length of a scan (up to 100 files).',
  },
  dagFileLeaseSec: {
    env: 'KEEL_DAG_FILE_LEASE_SEC',
    schema: positiveNumber,
    default: 30,
    doc: 'DAG processors split the DAG files by leases (database clock), renewed every 10 s (or a third of it, if shorter). A frozen or cut-off processor loses its files when their leases expire; one that stops gives them back at once.',
  },
  dagProcessorLostAfterSec: {
    env: 'KEEL_DAG_PROCESSOR_LOST_AFTER_SEC',
    schema: positiveNumber,
    default: 1,
    doc: 'A DAG processor whose session lock is gone (its process died) and whose heartbeat is older than this has its files taken over at once, without waiting for their leases.',
  },
  triggererCapacity: {
    env: 'KEEL_TRIGGERER_CAPACITY',
    schema: positiveInt,
    default: 1000,
    doc: 'Triggers one triggerer runs at once (deferred tasks and deferrable sensors waiting).',
  },
  triggerLeaseSec: {
    env: 'KEEL_TRIGGER_LEASE_SEC',
    schema: positiveNumber,
    default: 10,
    doc: 'Lease of a trigger held by a triggerer, renewed every third of it; a frozen triggerer loses its triggers when it expires.',
  },
  triggererLostAfterSec: {
    env: 'KEEL_TRIGGERER_LOST_AFTER_SEC',
    schema: positiveNumber,
    default: 1,
    doc: 'A triggerer whose session lock is gone (its process died) and whose heartbeat is older than this has its triggers taken over at once, without waiting for their leases.',
  },
  triggererPollMs: {
    env: 'KEEL_TRIGGERER_POLL_MS',
    schema: positiveInt,
    default: 1000,
    doc: 'How often a triggerer looks for triggers to take (new deferrals also wake it at once).',
  },
  apiHost: {
    env: 'KEEL_API_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    doc: 'Address the API server and web UI (`keel api`, `keel standalone`) listen on.',
  },
  apiPort: {
    env: 'KEEL_API_PORT',
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8080,
    doc: 'Port of the API server and web UI; 0 picks a free port.',
  },
  apiTrustProxy: {
    env: 'KEEL_API_TRUST_PROXY',
    schema: trustProxy,
    default: false,
    doc: 'Addresses of the proxies (HAProxy) in front of the API whose `X-Forwarded-For`/`-Proto`/`-Host` count, for the client address (rate limits, `/metrics` and `/health` access) and HTTPS detection (cookies): `false` (none), or addresses and CIDR ranges (`10.0.0.5,10.0.0.6`, `10.0.0.0/24`; also `loopback`, `linklocal`, `uniquelocal`). A forwarded address counts only when the hop that sent it is one of these. `true` and hop counts are refused: a client reaching the API directly could then choose its own address.',
  },
  apiCookieSecure: {
    env: 'KEEL_API_COOKIE_SECURE',
    schema: z.enum(['auto', 'always', 'never']),
    default: 'auto',
    doc: 'The `Secure` flag of the session cookie: `auto` sets it on HTTPS requests (directly or behind a trusted proxy) and on loopback, `always` on every request.',
  },
  apiSessionIdleSec: {
    env: 'KEEL_API_SESSION_IDLE_SEC',
    schema: positiveInt,
    default: 28800,
    doc: 'A browser session unused this long expires (sessions live in PostgreSQL or Redis, so any API copy serves them).',
  },
  apiSessionMaxSec: {
    env: 'KEEL_API_SESSION_MAX_SEC',
    schema: positiveInt,
    default: 604800,
    doc: 'A browser session expires this long after login, used or not.',
  },
  apiLoginRateLimit: {
    env: 'KEEL_API_LOGIN_RATE_LIMIT',
    schema: positiveInt,
    default: 10,
    doc: 'Login attempts per minute per client address, counted in PostgreSQL across all API copies.',
  },
  apiLoginBackoffAfter: {
    env: 'KEEL_API_LOGIN_BACKOFF_AFTER',
    schema: positiveInt,
    default: 5,
    doc: 'Failed logins of one username (from any address) after which it must wait before the next try: 1 s, then twice as long after each further failure, up to `apiLoginBackoffMaxSec`; a successful login resets it. Counted in PostgreSQL, so every API copy applies it.',
  },
  apiLoginBackoffMaxSec: {
    env: 'KEEL_API_LOGIN_BACKOFF_MAX_SEC',
    schema: positiveInt.max(86400),
    default: 900,
    doc: 'Longest wait of the per-username login back-off (`apiLoginBackoffAfter`).',
  },
  apiTokenDefaultLifetimeSec: {
    env: 'KEEL_API_TOKEN_DEFAULT_LIFETIME_SEC',
    schema: lifetimeSec,
    default: 2592000,
    doc: 'Lifetime of an API token made without one (30 days); never more than `apiTokenMaxLifetimeSec`, nor than the token or browser session that makes it.',
  },
  apiTokenMaxLifetimeSec: {
    env: 'KEEL_API_TOKEN_MAX_LIFETIME_SEC',
    schema: lifetimeSec,
    default: 31536000,
    doc: 'Longest lifetime of an API token (365 days; at most 100 years). A token made through the API also never outlives the token or browser session that made it.',
  },
  apiWriteRateLimit: {
    env: 'KEEL_API_WRITE_RATE_LIMIT',
    schema: positiveInt,
    default: 300,
    doc: 'Write requests (POST, PUT, PATCH, DELETE) per minute per user or client address, counted across all API copies.',
  },
  apiSessionStore: {
    env: 'KEEL_API_SESSION_STORE',
    schema: z.enum(['postgres', 'redis']),
    default: 'postgres',
    doc: 'Where browser sessions live: `postgres` (the Keel database) or `redis` (the server at `redisUrl`; a session expires with its key\'s TTL). Either way every API copy serves every session.',
  },
  redisUrl: {
    env: 'KEEL_REDIS_URL',
    schema: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    default: undefined,
    doc: 'Redis URL (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS) for `apiSessionStore=redis`. An API copy that cannot reach it within `dbConnectRetrySec` at start exits with an error naming this option.',
  },
  apiDrainSec: {
    env: 'KEEL_API_DRAIN_SEC',
    schema: z.coerce.number().nonnegative(),
    default: 3,
    doc: 'On SIGTERM, a `keel api` copy answers `/health/ready` with 404 (HAProxy: `http-check disable-on-404`) and keeps serving for this long, so that a load balancer checking readiness stops sending it new requests before it closes (`keel standalone` stops at once).',
  },
  secretKey: {
    env: 'KEEL_SECRET_KEY',
    schema: z.string().min(16).optional(),
    default: undefined,
    doc: 'Key (16+ characters) that encrypts connection passwords at rest (AES-256-GCM); workers use it to hand the passwords to tasks (`ctx.connections`, shell `env`) and mask them in task logs. Unset: connections cannot hold passwords; on the embedded database Keel creates one in `<dataDir>/secret-key` (0600).',
  },
} as const;

export type OptionName = keyof typeof OPTION_SPECS;
export type KeelOptions = {
  [K in OptionName]: z.output<(typeof OPTION_SPECS)[K]['schema']>;
};
