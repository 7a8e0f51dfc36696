// Read-only statements and operator actions behind the `keel` CLI commands.

/** All DAGs with their state and last run. No parameters. */
export const DAGS_LIST = `
SELECT d.dag_id, d.fileloc, d.is_paused AS paused, d.is_active AS active,
       d.serialized -> 'schedule' AS schedule, d.next_dagrun_at AS next_run,
       (SELECT r.state FROM dag_run r WHERE r.dag_id = d.dag_id ORDER BY r.logical_date DESC LIMIT 1) AS last_run_state
FROM dag d ORDER BY d.dag_id`;

/** Files that failed to load. No parameters. */
export const IMPORT_ERRORS = `SELECT fileloc, import_error AS error, import_error_at AS at FROM dag_file WHERE import_error IS NOT NULL ORDER BY fileloc`;

/** $1 dag_id */
export const DAG_SHOW = `SELECT dag_id, fileloc, is_paused, is_active, version_hash, serialized, next_dagrun_at, last_parsed_at FROM dag WHERE dag_id = $1`;

/** $1 dag_id, $2 paused (boolean). Returns the dag_id when it exists. */
export const DAG_SET_PAUSED = `UPDATE dag SET is_paused = $2 WHERE dag_id = $1 RETURNING dag_id`;

/** $1 dag_id or NULL, $2 state or NULL, $3 limit */
export const RUNS_LIST = `
SELECT id, dag_id, run_id, run_type, state, logical_date, started_at, ended_at
FROM dag_run
WHERE ($1::text IS NULL OR dag_id = $1) AND ($2::text IS NULL OR state = $2)
ORDER BY id DESC LIMIT $3`;

/** $1 dag_run id */
export const RUN_SHOW = `SELECT id, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, params, version_hash, created_at, started_at, ended_at FROM dag_run WHERE id = $1`;

/** $1 dag_run id */
export const TASKS_OF_RUN = `
SELECT id, task_id, state, try_number, max_tries, pool, queue, started_at, ended_at, attempt_id, error
FROM task_instance WHERE dag_run_id = $1 ORDER BY id`;

/** $1 dag_run id, $2 task_id, $3 try number or NULL (NULL: every try) */
export const TASK_ATTEMPT_LOGS = `
SELECT a.attempt_id, a.try_number, a.state, a.hostname, a.started_at, a.ended_at, a.error, a.log
FROM task_attempt a JOIN task_instance t ON t.id = a.task_instance_id
WHERE t.dag_run_id = $1 AND t.task_id = $2 AND ($3::int IS NULL OR a.try_number = $3)
ORDER BY a.started_at`;

/** Lock a run before its task instances (lock order dag_run → task_instance). $1 dag_run id */
export const RUN_LOCK = `SELECT id, state FROM dag_run WHERE id = $1 FOR UPDATE`;

/**
 * Clear task instances in a final state so that they run again; each gets its retries
 * afresh on top of the tries it already used. $1 dag_run id, $2 task ids (text[]) or NULL for all.
 */
export const TASKS_CLEAR = `
UPDATE task_instance t
SET state = 'pending',
    max_tries = t.try_number + 1 + coalesce((
      SELECT (task ->> 'retries')::int
      FROM dag_run r
      JOIN dag_version v ON v.dag_id = r.dag_id AND v.version_hash = r.version_hash
      CROSS JOIN jsonb_array_elements(v.serialized -> 'tasks') AS task
      WHERE r.id = t.dag_run_id AND task ->> 'taskId' = t.task_id), 0),
    result = NULL, error = NULL, next_retry_at = NULL, next_event = NULL, scheduled_at = NULL, queued_at = NULL, ended_at = NULL
WHERE t.dag_run_id = $1 AND ($2::text[] IS NULL OR t.task_id = ANY ($2::text[]))
  AND t.state IN ('success', 'failed', 'skipped', 'upstream_failed', 'up_for_retry')
RETURNING task_id`;

/** A cleared run runs again. $1 dag_run id */
export const RUN_REOPEN = `UPDATE dag_run SET state = 'running', ended_at = NULL WHERE id = $1 AND state IN ('success', 'failed')`;

/** Task instances that are neither final nor clearable right now. $1 dag_run id, $2 task ids (text[]) or NULL */
export const TASKS_ACTIVE = `
SELECT task_id, state FROM task_instance
WHERE dag_run_id = $1 AND ($2::text[] IS NULL OR task_id = ANY ($2::text[])) AND state IN ('queued', 'running', 'deferred')`;

/** Every component not long gone, with its heartbeat age, the attempts and DAG file leases it holds. No parameters. */
export const HA_COMPONENTS = `
SELECT c.id, c.role, c.hostname, c.pid, c.version, c.state, c.started_at,
       round(extract(epoch FROM now() - c.last_heartbeat_at)::numeric, 1)::float8 AS heartbeat_age_sec,
       (SELECT count(*) FROM task_instance t WHERE t.worker_id = c.id AND t.state = 'running')::int AS running_attempts,
       (SELECT count(*) FROM dag_file_lease l WHERE l.holder_id = c.id AND l.expires_at > now())::int AS file_leases,
       (SELECT count(*) FROM trigger tr WHERE tr.holder_id = c.id AND tr.state = 'waiting')::int AS triggers_held,
       c.details
FROM component c
WHERE c.state IN ('running', 'stopping', 'dead') OR c.last_heartbeat_at > now() - interval '1 hour'
ORDER BY c.role, c.started_at`;

/** The database as Keel sees it. No parameters. */
export const HA_DATABASE = `
SELECT CASE WHEN pg_is_in_recovery() THEN 'replica' ELSE 'primary' END AS role,
       current_setting('server_version') AS version,
       pg_postmaster_start_time() AS server_started_at,
       (SELECT last_disruption_at FROM keel_cluster) AS last_disruption_at`;

/** $1 limit, $2 kind or NULL */
export const HA_EVENTS = `
SELECT e.id, e.at, e.kind, c.role, c.hostname, e.component_id, e.details
FROM ha_event e LEFT JOIN component c ON c.id = e.component_id
WHERE ($2::text IS NULL OR e.kind = $2)
ORDER BY e.id DESC LIMIT $1`;

/** Healthy components of a role (standalone counts for the roles it runs). $1 role, $2 heartbeat age limit in seconds */
export const HEALTHY_OF_ROLE = `
SELECT id, role, hostname, pid, extract(epoch FROM now() - last_heartbeat_at)::float8 AS heartbeat_age_sec
FROM component
WHERE state = 'running' AND (role = $1 OR (role = 'standalone' AND $1 IN ('scheduler', 'worker', 'dag-processor')))
  AND last_heartbeat_at > now() - make_interval(secs => $2::float8)`;

/** Triggers, newest first, with their task. $1 limit, $2 state (text or NULL) */
export const TRIGGERS_LIST = `
SELECT tr.id, tr.state, tr.dag_id, r.run_id, ti.task_id, tr.spec->>'kind' AS kind, tr.holder_id, tr.holder_count,
       tr.created_at, tr.timeout_at, tr.fired_at
FROM trigger tr
JOIN task_instance ti ON ti.id = tr.task_instance_id
JOIN dag_run r ON r.id = ti.dag_run_id
WHERE $2::text IS NULL OR tr.state = $2
ORDER BY tr.id DESC
LIMIT $1`;
