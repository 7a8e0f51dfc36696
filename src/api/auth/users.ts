// Creating users (the CLI's `keel users create`) and API tokens.
import type { Db } from '../../db/pool.js';
import { UsageError } from '../../errors.js';
import { hashPassword } from './passwords.js';
import { TOKEN_INSERT, USER_BY_NAME, USER_INSERT } from './queries.js';
import { API_TOKEN_PREFIX, newToken, tokenHash } from './tokens.js';

export const USER_ROLES = ['admin', 'op', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];
export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

export interface User {
  id: string;
  username: string;
  role: UserRole;
}

export function checkNewUser(username: string, password: string, role: string): void {
  if (!USERNAME_PATTERN.test(username)) throw new UsageError(`username: 1 to 64 letters, digits or _ . @ -, got ${JSON.stringify(username)}`);
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
  if (!(USER_ROLES as readonly string[]).includes(role)) throw new UsageError(`role: one of ${USER_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
}

export async function createUser(db: Db, username: string, password: string, role: string): Promise<User> {
  checkNewUser(username, password, role);
  const r = await db.query<User>(USER_INSERT, [username, await hashPassword(password), role]);
  const user = r.rows[0];
  if (!user) throw new UsageError(`username: "${username}" already exists`);
  return user;
}

/** A new API token for a user; the token itself is returned once and only its hash is kept. */
export async function createToken(db: Db, username: string, name: string, lifetimeSec: number | null): Promise<{ token: string; id: string; expiresAt: Date | null }> {
  const user = (await db.query<{ id: string }>(USER_BY_NAME, [username])).rows[0];
  if (!user) throw new UsageError(`username: no user "${username}"`);
  const token = newToken(API_TOKEN_PREFIX);
  const row = (await db.query<{ id: string; expires_at: Date | null }>(TOKEN_INSERT, [user.id, name, tokenHash(token), lifetimeSec])).rows[0]!;
  return { token, id: row.id, expiresAt: row.expires_at };
}
