// Statements behind the REST API's reads and operator actions (shared CLI statements
// are imported from src/cli/queries.ts).

/** DAGs with their schedule, next run and five latest runs. No parameters. */
export const API_DAGS_LIST = `
SELECT d.dag_id, d.fileloc, d.is_paused, d.is_active, d.next_dagrun_at, d.last_parsed_at,
       d.serialized -> 'schedule' AS schedule, d.serialized -> 'tags' AS tags,
       d.serialized ->> 'description' AS description,
       coalesce((SELECT jsonb_agg(jsonb_build_object('id', r.id, 'runId', r.run_id, 'state', r.state, 'logicalDate', r.logical_date) ORDER BY r.logical_date DESC)
                 FROM (SELECT id, run_id, state, logical_date FROM dag_run WHERE dag_id = d.dag_id ORDER BY logical_date DESC LIMIT 5) r), '[]') AS recent_runs
FROM dag d
WHERE ($1::boolean IS NULL OR d.is_paused = $1) AND ($2::boolean OR d.is_active)
ORDER BY d.dag_id`;

/** Runs with filters, newest first, and the total count matching them.
 * $1 dag_id, $2 state, $3 run_type, $4 logical date from, $5 logical date to (each NULL: any), $6 limit, $7 offset */
export const API_RUNS_LIST = `
SELECT id, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, params,
       created_at, started_at, ended_at, count(*) OVER ()::int AS total
FROM dag_run
WHERE ($1::text IS NULL OR dag_id = $1) AND ($2::text IS NULL OR state = $2) AND ($3::text IS NULL OR run_type = $3)
  AND ($4::timestamptz IS NULL OR logical_date >= $4) AND ($5::timestamptz IS NULL OR logical_date < $5)
ORDER BY logical_date DESC, id DESC
LIMIT $6 OFFSET $7`;

/** The latest runs of a DAG with the state of each task instance (the grid). $1 dag_id, $2 limit */
export const API_DAG_GRID = `
SELECT r.id, r.run_id, r.state, r.run_type, r.logical_date, r.version_hash,
       coalesce((SELECT jsonb_object_agg(t.task_id, jsonb_build_object('state', t.state, 'tryNumber', t.try_number))
                 FROM task_instance t WHERE t.dag_run_id = r.id), '{}') AS tasks
FROM dag_run r WHERE r.dag_id = $1
ORDER BY r.logical_date DESC LIMIT $2`;

/** Task instances across runs. $1 dag_id, $2 state (each NULL: any), $3 limit, $4 offset */
export const API_TASK_INSTANCES = `
SELECT t.id, t.dag_id, t.dag_run_id AS run_id, t.task_id, t.state, t.try_number, t.max_tries, t.pool, t.queue,
       t.started_at, t.ended_at, t.error, count(*) OVER ()::int AS total
FROM task_instance t
WHERE ($1::text IS NULL OR t.dag_id = $1) AND ($2::text IS NULL OR t.state = $2)
ORDER BY t.id DESC LIMIT $3 OFFSET $4`;

/** One task instance of a run. $1 dag_run id, $2 task_id */
export const API_TASK_SHOW = `
SELECT id, dag_id, dag_run_id AS run_id, task_id, state, try_number, max_tries, attempt_id, worker_id, lease_expires_at,
       pool, pool_slots, priority_weight, queue, scheduled_at, queued_at, started_at, ended_at, next_retry_at, result, error
FROM task_instance WHERE dag_run_id = $1 AND task_id = $2`;

/** Attempts of a task instance without their logs. $1 task_instance id */
export const API_TASK_ATTEMPTS = `
SELECT attempt_id, try_number, worker_id, hostname, state, started_at, ended_at, error, octet_length(log)::int AS log_bytes
FROM task_attempt WHERE task_instance_id = $1 ORDER BY started_at`;

/** A slice of one attempt's log from a character offset (live tail by offset polling).
 * $1 dag_run id, $2 task_id, $3 try number (NULL: the latest), $4 offset, $5 most characters */
export const API_TASK_LOG = `
SELECT a.attempt_id, a.try_number, a.state, a.hostname, a.started_at, a.ended_at,
       char_length(a.log)::int AS size,
       substring(a.log FROM $4::int + 1 FOR $5::int) AS content,
       char_length(substring(a.log FROM $4::int + 1 FOR $5::int))::int AS content_chars
FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id
WHERE t.dag_run_id = $1 AND t.task_id = $2 AND ($3::int IS NULL OR a.try_number = $3)
ORDER BY a.try_number DESC, a.started_at DESC LIMIT 1`;

/** Cancel a run: its unfinished task instances fail (a running attempt is fenced: its
 * lease renewal and result are rejected, so its worker stops it). $1 dag_run id */
export const API_RUN_CANCEL_TASKS = `
UPDATE task_instance SET state = 'failed', error = 'cancelled by a user', ended_at = now(), lease_expires_at = NULL, next_retry_at = NULL
WHERE dag_run_id = $1 AND state IN ('pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry')
RETURNING task_id, attempt_id`;

/** $1 attempt ids (uuid[]) */
export const API_ATTEMPTS_CANCEL = `UPDATE task_attempt SET state = 'fenced', error = 'cancelled by a user', ended_at = now() WHERE attempt_id = ANY ($1::uuid[]) AND state = 'running'`;

/** $1 dag_run id */
export const API_RUN_CANCEL = `UPDATE dag_run SET state = 'failed', ended_at = now() WHERE id = $1 AND state IN ('queued', 'running') RETURNING id`;

/** Pools with their use. No parameters. */
export const API_POOLS = `
SELECT p.name, p.slots, p.description,
       coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'running'), 0)::int AS running_slots,
       coalesce(sum(t.pool_slots) FILTER (WHERE t.state = 'queued'), 0)::int AS queued_slots
FROM pool p LEFT JOIN task_instance t ON t.pool = p.name AND t.state IN ('queued', 'running')
GROUP BY p.name ORDER BY p.name`;

/** Create or resize a pool. $1 name, $2 slots, $3 description or NULL (keep) */
export const API_POOL_UPSERT = `
INSERT INTO pool (name, slots, description) VALUES ($1, $2, coalesce($3, ''))
ON CONFLICT (name) DO UPDATE SET slots = EXCLUDED.slots, description = coalesce($3, pool.description)
RETURNING name, slots, description`;

/** $1 name */
export const API_POOL_DELETE = `DELETE FROM pool WHERE name = $1 AND name <> 'default_pool' RETURNING name`;

/** No parameters. */
export const API_VARIABLES = `SELECT key, value, description, updated_at FROM variable ORDER BY key`;
/** $1 key */
export const API_VARIABLE = `SELECT key, value, description, updated_at FROM variable WHERE key = $1`;
/** $1 key, $2 value, $3 description */
export const API_VARIABLE_UPSERT = `
INSERT INTO variable (key, value, description) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, description = EXCLUDED.description, updated_at = now()
RETURNING key, value, description, updated_at`;
/** $1 key */
export const API_VARIABLE_DELETE = `DELETE FROM variable WHERE key = $1 RETURNING key`;

const CONNECTION_COLUMNS = `conn_id, conn_type, host, port, login, schema, extra, description, updated_at, password_encrypted IS NOT NULL AS has_password`;
/** No parameters. */
export const API_CONNECTIONS = `SELECT ${CONNECTION_COLUMNS} FROM connection ORDER BY conn_id`;
/** $1 conn_id */
export const API_CONNECTION = `SELECT ${CONNECTION_COLUMNS} FROM connection WHERE conn_id = $1`;
/** $1 conn_id, $2 conn_type, $3 host, $4 port, $5 login, $6 schema, $7 extra, $8 encrypted password (NULL: none), $9 description,
 * $10 keep the stored password (an edit that does not send the write-only password again) */
export const API_CONNECTION_UPSERT = `
INSERT INTO connection (conn_id, conn_type, host, port, login, schema, extra, password_encrypted, description)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (conn_id) DO UPDATE SET conn_type = EXCLUDED.conn_type, host = EXCLUDED.host, port = EXCLUDED.port, login = EXCLUDED.login,
  schema = EXCLUDED.schema, extra = EXCLUDED.extra, description = EXCLUDED.description, updated_at = now(),
  password_encrypted = CASE WHEN $10::boolean THEN connection.password_encrypted ELSE EXCLUDED.password_encrypted END
RETURNING ${CONNECTION_COLUMNS}`;
/** $1 conn_id */
export const API_CONNECTION_DELETE = `DELETE FROM connection WHERE conn_id = $1 RETURNING conn_id`;

/** Triggers of deferred tasks, newest first, with their task, holder and the total count.
 * $1 state, $2 dag_run id, $3 task_id (each NULL: any), $4 limit, $5 offset */
export const API_TRIGGERS_LIST = `
SELECT tr.id, tr.state, tr.spec, tr.dag_id, ti.dag_run_id AS run_id, r.run_id AS run_name, ti.task_id,
       tr.holder_id, c.hostname AS holder_hostname, c.pid AS holder_pid, tr.holder_count,
       tr.created_at, tr.timeout_at, tr.lease_expires_at, tr.fired_at, count(*) OVER ()::int AS total
FROM trigger tr
JOIN task_instance ti ON ti.id = tr.task_instance_id
JOIN dag_run r ON r.id = ti.dag_run_id
LEFT JOIN component c ON c.id = tr.holder_id
WHERE ($1::text IS NULL OR tr.state = $1) AND ($2::bigint IS NULL OR ti.dag_run_id = $2) AND ($3::text IS NULL OR ti.task_id = $3)
ORDER BY tr.id DESC LIMIT $4 OFFSET $5`;
