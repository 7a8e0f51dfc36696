// Creating users (the CLI's `keel users create`) and API tokens: create, list, revoke.
import type { Database } from '../../db/database.js';
import { UsageError } from '../../errors.js';
import { hashPassword } from './passwords.js';
import { sql } from '../../db/sql.js';
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

export async function createUser(db: Database, username: string, password: string, role: string): Promise<User> {
  checkNewUser(username, password, role);
  const r = await db.query<User>(sql('auth/user_insert'), [username, await hashPassword(password), role]);
  const user = r.rows[0];
  if (!user) throw new UsageError(`username: "${username}" already exists`);
  return user;
}

/** A new API token for a user; the token itself is returned once and only its hash is kept. */
export async function createToken(db: Database, username: string, name: string, lifetimeSec: number | null): Promise<{ token: string; id: string; expiresAt: Date | null }> {
  const userId = await userIdOf(db, username);
  const token = newToken(API_TOKEN_PREFIX);
  const row = (await db.query<{ id: string; expires_at: Date | null }>(sql('auth/api_token_insert'), [userId, name, tokenHash(token), lifetimeSec])).rows[0]!;
  return { token, id: row.id, expiresAt: row.expires_at };
}

export interface TokenInfo {
  id: string;
  username: string;
  name: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  expired: boolean;
}

export async function userIdOf(db: Database, username: string): Promise<string> {
  const user = (await db.query<{ id: string }>(sql('auth/user_by_name'), [username])).rows[0];
  if (!user) throw new UsageError(`username: no user "${username}"`);
  return user.id;
}

/** API tokens without their secret, newest first: one user's, or everyone's (userId null). */
export async function listTokens(db: Database, userId: string | null): Promise<TokenInfo[]> {
  return (await db.query<TokenInfo>(sql('auth/api_tokens_list'), [userId])).rows;
}

/** Deletes a token, so that every API copy refuses it from the next request on; null when there is no such token (of that owner). */
export async function revokeToken(db: Database, tokenId: string, ownerId: string | null): Promise<{ id: string; name: string; username: string } | null> {
  return (await db.query<{ id: string; name: string; username: string }>(sql('auth/api_token_revoke'), [tokenId, ownerId])).rows[0] ?? null;
}
