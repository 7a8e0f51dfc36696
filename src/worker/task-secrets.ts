// The worker's answers to its runners' requests for variables and connections (runners have
// no database). A request is answered only for the attempt the asking runner runs, so task
// code that forges a message cannot read under another attempt's id; what is handed out is
// added to that attempt's masker before the answer leaves, so the task's log masks it even
// when the worker's known secrets (known-secrets.ts) were loaded before it was saved.
import type { SecretAnswer, SecretRequest, TaskConnection } from '../core/types.js';
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { isSensitiveKey, sensitiveStrings } from '../secrets/sensitive.js';
import type { AttemptLog } from './attempt-log.js';
import type { SecretMessage } from './runner-protocol.js';
import { secretRequestOf } from '../core/task-env.js';

/** The attempt a runner runs, as the worker knows it (never as the runner says). */
export interface RunningAttempt {
  attemptId: string;
  log: AttemptLog;
}

interface ConnectionRow {
  conn_id: string;
  conn_type: string;
  host: string | null;
  port: number | null;
  login: string | null;
  schema: string | null;
  extra: Record<string, unknown>;
  password_encrypted: Buffer | null;
}

/** A reason the task gets as its error, not a fault of the worker. */
class Refusal extends Error {}

const describe = (r: SecretRequest) => (r.kind === 'variable' ? `variable "${r.key}"` : `connection "${r.connId}"`);

export class TaskSecrets {
  constructor(private readonly db: Database, private readonly box: SecretBox | null, private readonly log: Logger) {}

  /** Answers a runner's request; `running`: the attempt that runner runs (null: none, or one that was stopped). Never rejects. */
  async answer(running: RunningAttempt | null, m: SecretMessage): Promise<SecretAnswer> {
    if (!running) {
      this.log.debug({ askedFor: String(m.attemptId) }, 'a runner asked for a secret after its attempt ended or was stopped; refused');
      return { ok: false, error: `refused: attempt ${String(m.attemptId)} is not running in this runner (it ended, or was stopped)` };
    }
    if (m.attemptId !== running.attemptId) {
      this.log.warn({ askedFor: String(m.attemptId), running: running.attemptId }, 'a runner asked for a secret under an attempt it does not run; refused');
      return { ok: false, error: `refused: this runner runs attempt ${running.attemptId}, not ${String(m.attemptId)}; a task reads secrets only for its own attempt` };
    }
    const request = secretRequestOf(m.request);
    if (!request) return { ok: false, error: 'refused: a secret request names a variable (kind "variable", key) or a connection (kind "connection", connId)' };
    try {
      const { value, secrets } = request.kind === 'variable' ? await this.variable(request.key) : await this.connection(request.connId);
      running.log.maskAlso(secrets);
      return { ok: true, value };
    } catch (err) {
      if (err instanceof Refusal) return { ok: false, error: err.message };
      this.log.warn({ err, attemptId: running.attemptId }, `could not read ${describe(request)} for a task`);
      return { ok: false, error: `could not read ${describe(request)}: ${(err as Error).message}` };
    }
  }

  private async variable(key: string): Promise<{ value: string | null; secrets: string[] }> {
    const row = (await this.db.withRetry(() => this.db.query<{ value: string }>(sql('worker/variable_for_task'), [key]), { log: this.log, what: 'reading a variable for a task' })).rows[0];
    if (!row) return { value: null, secrets: [] };
    return { value: row.value, secrets: isSensitiveKey(key) ? [row.value] : [] };
  }

  private async connection(connId: string): Promise<{ value: TaskConnection | null; secrets: string[] }> {
    const row = (await this.db.withRetry(() => this.db.query<ConnectionRow>(sql('worker/connection_for_task'), [connId]), { log: this.log, what: 'reading a connection for a task' })).rows[0];
    if (!row) return { value: null, secrets: [] };
    const password = row.password_encrypted ? this.decrypt(connId, row.password_encrypted) : null;
    return {
      value: { connId: row.conn_id, connType: row.conn_type, host: row.host, port: row.port, login: row.login, password, schema: row.schema, extra: row.extra },
      secrets: [...(password !== null ? [password] : []), ...sensitiveStrings(row.extra)],
    };
  }

  private decrypt(connId: string, stored: Buffer): string {
    if (!this.box) throw new Refusal(`connection "${connId}" has a password, but this worker has no secretKey to decrypt it: give every worker the API's key (KEEL_SECRET_KEY)`);
    try {
      return this.box.decrypt(stored);
    } catch {
      throw new Refusal(`the password of connection "${connId}" does not decrypt with this worker's secretKey: give every worker the API's key (KEEL_SECRET_KEY), or enter the password again`);
    }
  }
}
