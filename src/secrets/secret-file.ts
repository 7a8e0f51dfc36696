// Secrets kept in files (the embedded PostgreSQL's password, standalone's secret key): made
// once at random, readable by their owner only. A process of the same OS user can still
// read them; see docs/security.md ("Local user").
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, linkSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

export interface FileOwner {
  uid: number;
  gid: number;
}

/** A new random secret: 32 bytes, base64url (safe in a URL without escaping). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The secret in `file`, or null when the file does not exist; a file others may read is made owner-only first. */
export function readSecretFile(file: string): string | null {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (mode & 0o077) {
    try {
      chmodSync(file, 0o600);
    } catch (err) {
      throw new Error(`${file} is readable by other users and could not be made owner-only (${(err as Error).message}): run chmod 600 ${file}`, { cause: err });
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The secret in `file`, made first when there is none. Created 0600 under a temporary name
 * and linked into place, so a process racing this one reads the same secret, never half of it.
 * `owner`: who owns the new file (another user than this process's, when run as root).
 */
export function readOrCreateSecretFile(file: string, owner: FileOwner | null = null): string {
  const existing = readSecretFile(file);
  if (existing !== null) return existing;
  const temp = `${file}.${process.pid}.new`;
  writeFileSync(temp, `${randomSecret()}\n`, { mode: 0o600 });
  try {
    if (owner) chownSync(temp, owner.uid, owner.gid);
    linkSync(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  return readSecretFile(file)!;
}
