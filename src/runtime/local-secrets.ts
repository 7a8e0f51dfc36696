// Variables and connections for `keel dags test` / `keel tasks test`, which run without a
// database: read from this process's environment, as Airflow's AIRFLOW_VAR_* and
// AIRFLOW_CONN_* are — KEEL_VAR_<KEY> holds a variable's value, KEEL_CONN_<ID> a connection
// as a URI. Runners never see these variables (their environment is the allow-list); they ask
// over the same request as on a worker, answered only for the attempt the runner runs.
import { localSecretEnvName, parseConnectionUri, secretRequestOf } from '../core/task-env.js';
import type { SecretAnswer } from '../core/types.js';
import type { SecretMessage } from '../worker/runner-protocol.js';

export function localSecretAnswer(env: NodeJS.ProcessEnv): (running: string | null, m: SecretMessage) => Promise<SecretAnswer> {
  return async (running, m) => {
    if (running === null || m.attemptId !== running) return { ok: false, error: 'refused: a task reads secrets only for its own running attempt' };
    const r = secretRequestOf(m.request);
    if (r?.kind === 'variable') return { ok: true, value: env[localSecretEnvName('KEEL_VAR_', r.key)] ?? null };
    if (r?.kind === 'connection') {
      const name = localSecretEnvName('KEEL_CONN_', r.connId);
      const text = env[name];
      if (text === undefined) return { ok: true, value: null };
      const c = parseConnectionUri(r.connId, text);
      return typeof c === 'string' ? { ok: false, error: `${name}: ${c}` } : { ok: true, value: c };
    }
    return { ok: false, error: 'refused: a secret request names a variable (kind "variable", key) or a connection (kind "connection", connId)' };
  };
}
