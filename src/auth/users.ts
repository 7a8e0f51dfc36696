// Users and API tokens, shared by the CLI (`keel users …`) and the API: create users,
// change their role or password, disable them, end all their sessions and tokens; create,
// list and revoke tokens.
import { OPTION_SPECS } from '../config/options.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { UsageError } from '../errors.js';
import { hashPassword } from './passwords.js';
import { USER_ROLES, type UserRole } from './roles.js';
import { grantToken, type TokenLimits, type TokenMaker } from './token-grant.js';
import { API_TOKEN_PREFIX, newToken, tokenHash } from './tokens.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

export interface User {
  id: string;
  username: string;
  role: UserRole;
}

/** The options' defaults, for callers without options (tests, scripts). */
export const DEFAULT_TOKEN_LIMITS: TokenLimits = {
  defaultSec: OPTION_SPECS.apiTokenDefaultLifetimeSec.default,
  maxSec: OPTION_SPECS.apiTokenMaxLifetimeSec.default,
};

function checkRole(role: string): void {
  if (!(USER_ROLES as readonly string[]).includes(role)) throw new UsageError(`role: one of ${USER_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new UsageError(`password: at least ${MIN_PASSWORD_LENGTH} characters`);
}

export function checkNewUser(username: string, password: string, role: string): void {
  if (!USERNAME_PATTERN.test(username)) throw new UsageError(`username: 1 to 64 letters, digits or _ . @ -, got ${JSON.stringify(username)}`);
  checkPassword(password);
  checkRole(role);
}

export async function createUser(db: Database, username: string, password: string, role: string): Promise<User> {
  checkNewUser(username, password, role);
  const r = await db.query<User>(sql('auth/user_insert'), [username, await hashPassword(password), role]);
  const user = r.rows[0];
  if (!user) throw new UsageError(`username: "${username}" already exists`);
  return user;
}

export interface UserInfo extends User {
  created_at: Date;
  disabled: boolean;
  disabled_at: Date | null;
  live_tokens: number;
}

export async function listUsers(db: Database): Promise<UserInfo[]> {
  return (await db.query<UserInfo>(sql('auth/users_list'))).rows;
}

type UserState = User & { disabled: boolean };

/** No user of that name (the API answers 404). */
export class UnknownUser extends UsageError {}
/** The change would leave no enabled admin (the API answers 409). */
export class LastAdmin extends UsageError {}

const noUser = (username: string) => new UnknownUser(`username: no user "${username}"`);

/**
 * Runs a change of a user that may take away an enabled admin, refusing it when it would
 * leave none (nobody could manage users through the API any more). The enabled admins
 * are locked first, so two such changes at once cannot both pass.
 */
async function keepingAnAdmin(db: Database, username: string, removesAdmin: boolean, change: (tx: Tx) => Promise<UserState | undefined>): Promise<UserState> {
  return db.inTransaction(async (tx) => {
    if (removesAdmin) {
      const admins = (await tx.query<{ username: string }>(sql('auth/admins_lock'))).rows;
      if (admins.length === 1 && admins[0]!.username === username) throw new LastAdmin(`username: "${username}" is the only enabled admin; make another admin first`);
    }
    const user = await change(tx);
    if (!user) throw noUser(username);
    return user;
  });
}

/** A new role: it counts from the user's next request on, for its sessions and its tokens alike. */
export async function setUserRole(db: Database, username: string, role: string): Promise<UserState> {
  checkRole(role);
  return keepingAnAdmin(db, username, role !== 'admin', async (tx) => (await tx.query<UserState>(sql('auth/user_set_role'), [username, role])).rows[0]);
}

/** A new password; the user's browser sessions end (its API tokens stay). */
export async function setUserPassword(db: Database, username: string, password: string): Promise<UserState> {
  checkPassword(password);
  const user = (await db.query<UserState>(sql('auth/user_set_password'), [username, await hashPassword(password)])).rows[0];
  if (!user) throw noUser(username);
  return user;
}

/** A disabled user cannot log in, and its sessions and tokens end; enabling it again restores none of them. */
export async function setUserDisabled(db: Database, username: string, disabled: boolean): Promise<UserState> {
  return keepingAnAdmin(db, username, disabled, async (tx) => (await tx.query<UserState>(sql('auth/user_set_disabled'), [username, disabled])).rows[0]);
}

/** Ends every browser session and API token of a user, on every API copy, from its next request on. */
export async function endUserSessions(db: Database, username: string): Promise<{ username: string; sessions: number; tokens: number }> {
  const r = (await db.query<{ username: string; sessions: number; tokens: number }>(sql('auth/user_end_sessions'), [username])).rows[0];
  if (!r) throw noUser(username);
  return { username: r.username, sessions: r.sessions, tokens: r.tokens };
}

export interface NewToken {
  token: string;
  id: string;
  expiresAt: Date;
  role: UserRole;
}

/**
 * A new API token; the token itself is returned once and only its hash is kept. It never
 * ranks above nor outlives its maker (`maker`: the caller's token or session; default:
 * the operator at the CLI, bounded only by the user's role and `limits`).
 */
export async function createToken(db: Database, username: string, name: string, lifetimeSec: number | null,
  opts: { role?: UserRole; limits?: TokenLimits; maker?: TokenMaker & { tokenId: string | null } } = {}): Promise<NewToken> {
  const user = (await db.query<User & { disabled: boolean }>(sql('auth/user_by_name'), [username])).rows[0];
  if (!user) throw noUser(username);
  if (user.disabled) throw new UsageError(`username: "${username}" is disabled; enable it first (keel users enable)`);
  const maker = opts.maker ?? { role: user.role, expiresAt: null, tokenId: null };
  const grant = grantToken({ lifetimeSec, role: opts.role }, maker, opts.limits ?? DEFAULT_TOKEN_LIMITS);
  if (!grant.ok) throw new TokenRefused(grant.status, grant.field, grant.message);
  const token = newToken(API_TOKEN_PREFIX);
  const row = (await db.query<{ id: string; expires_at: Date; role: UserRole }>(sql('auth/api_token_insert'),
    [user.id, name, tokenHash(token), grant.lifetimeSec, grant.role, maker.expiresAt, maker.tokenId])).rows[0]!;
  return { token, id: row.id, expiresAt: row.expires_at, role: row.role };
}

/** A token the rules refuse (a UsageError for the CLI; the API answers `status` naming `field`). */
export class TokenRefused extends UsageError {
  constructor(readonly status: 400 | 403, readonly field: string, message: string) {
    super(message);
  }
}

export interface TokenInfo {
  id: string;
  username: string;
  name: string;
  role: UserRole;
  parent_id: string | null;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  expired: boolean;
}

export async function userIdOf(db: Database, username: string): Promise<string> {
  const user = (await db.query<{ id: string }>(sql('auth/user_by_name'), [username])).rows[0];
  if (!user) throw noUser(username);
  return user.id;
}

/** API tokens without their secret, newest first: one user's, or everyone's (userId null). */
export async function listTokens(db: Database, userId: string | null): Promise<TokenInfo[]> {
  return (await db.query<TokenInfo>(sql('auth/api_tokens_list'), [userId])).rows;
}

/** Deletes a token and the tokens made with it, so that every API copy refuses them from the next request on; null when there is no such token (of that owner). */
export async function revokeToken(db: Database, tokenId: string, ownerId: string | null): Promise<{ id: string; name: string; username: string } | null> {
  return (await db.query<{ id: string; name: string; username: string }>(sql('auth/api_token_revoke'), [tokenId, ownerId])).rows[0] ?? null;
}
