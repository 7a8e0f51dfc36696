// Who may log in to the embedded PostgreSQL: its superuser, with a random password made at
// the first start and kept owner-only in <dataDir>/postgres-password, over TCP from loopback
// with SCRAM (also for replication: `keel backup` runs pg_basebackup). There is no other way
// in: no trust line, no Unix socket.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';

export const SUPERUSER = 'keel';
export const PASSWORD_FILE = 'postgres-password';
/** Every embedded server had this password before the password file existed: such a data folder is migrated at its next start. */
const FORMER_FIXED_PASSWORD = 'keel';
const INVALID_PASSWORD = '28P01';

const HBA = `# Written by Keel at every start of the embedded PostgreSQL (edits are overwritten):
# TCP from loopback only, with the password in <dataDir>/${PASSWORD_FILE} (SCRAM);
# replication for the superuser only, for \`keel backup\` (pg_basebackup).
host all all 127.0.0.1/32 scram-sha-256
host replication ${SUPERUSER} 127.0.0.1/32 scram-sha-256
`;

export function writeHba(pgdata: string): void {
  writeFileSync(join(pgdata, 'pg_hba.conf'), HBA);
}

export function embeddedUrl(password: string, port: number): string {
  return `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/postgres`;
}

async function connect(port: number, password: string): Promise<pg.Client> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end();
    throw err;
  }
}

const rejected = (err: unknown) => (err as { code?: string }).code === INVALID_PASSWORD;

/**
 * Makes sure the server just started accepts the password of `file`. A data folder made by
 * an older Keel still has the former fixed password: it is replaced here, and the log says so.
 */
export async function ensurePassword(port: number, password: string, file: string, log?: Logger): Promise<void> {
  try {
    await (await connect(port, password)).end();
    return;
  } catch (err) {
    if (!rejected(err)) throw err;
  }
  let client: pg.Client;
  try {
    client = await connect(port, FORMER_FIXED_PASSWORD);
  } catch (err) {
    if (rejected(err)) throw new Error(`the embedded PostgreSQL rejects the password in ${file}: was the file replaced? Restore it, or set KEEL_DATABASE_URL`, { cause: err });
    throw err;
  }
  try {
    await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  log?.warn({ file }, `the embedded PostgreSQL still had the fixed password of older Keel versions (${SUPERUSER}/${FORMER_FIXED_PASSWORD}): replaced it with the random password now kept in ${file}`);
}
