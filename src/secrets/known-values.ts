// The secret values Keel masks in text it shows: connection passwords (decrypted by the
// caller, which knows whether it has the key), and the values of connection extra fields and
// variables whose names look sensitive. Task logs (the worker) and the DAG source shown to
// non-admins (the API) are masked with the same set.
import type { Database } from '../db/database.js';
import { sql } from '../db/sql.js';
import { sensitiveLikePatterns, sensitiveStrings } from './sensitive.js';

/** `decrypt` returns a connection's password, or null when it cannot. */
export async function readSecretValues(db: Database, decrypt: (connId: string, stored: Buffer) => string | null): Promise<string[]> {
  const connections = await db.query<{ conn_id: string; password_encrypted: Buffer | null; extra: unknown }>(sql('worker/connection_secrets'));
  const variables = await db.query<{ value: string }>(sql('worker/variable_sensitive_values'), [sensitiveLikePatterns()]);
  const secrets = variables.rows.map((r) => r.value);
  for (const c of connections.rows) {
    secrets.push(...sensitiveStrings(c.extra));
    const password = c.password_encrypted && decrypt(c.conn_id, c.password_encrypted);
    if (password) secrets.push(password);
  }
  return secrets;
}
