// Login, logout, who am I, and API tokens. The login is rate-limited per client address
// and backs off per username, both counted in PostgreSQL, so the limits hold across all
// API copies. Answers that carry credentials are never cached (Cache-Control: no-store).
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';
import { HttpError, notFound } from '../errors.js';
import { idParam, object } from '../schemas.js';
import { SESSION_COOKIE } from './authenticate.js';
import { beginLogin, loginSucceeded, type BackoffOptions } from './login-backoff.js';
import { DUMMY_HASH, verifyPassword } from '../../auth/passwords.js';
import { USER_ROLES, type UserRole } from '../../auth/roles.js';
import type { SessionStore } from '../sessions/store.js';
import { MIN_TOKEN_LIFETIME_SEC, type TokenLimits } from '../../auth/token-grant.js';
import { newToken, tokenHash } from '../../auth/tokens.js';
import { createToken, listTokens, revokeToken, TokenRefused, type User } from '../../auth/users.js';

export interface AuthRouteOptions {
  sessionMaxSec: number;
  sessionIdleSec: number;
  cookieSecure: 'auto' | 'always' | 'never';
  loginRateLimit: number;
  loginBackoff: BackoffOptions;
  tokenLimits: TokenLimits;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function authRoutes(app: FastifyInstance, db: Database, sessions: SessionStore, opts: AuthRouteOptions): void {
  app.post('/auth/login', {
    config: { public: true, noStore: true, rateLimit: { max: opts.loginRateLimit, timeWindow: 60_000, keyGenerator: (req) => `login:${req.ip}` } },
    schema: { tags: ['auth'], summary: 'Log in; sets an HTTP-only session cookie and returns the CSRF token for writes. 429 with Retry-After while the address is rate-limited or the username backs off', body: object({ username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1000 } }, ['username', 'password']) },
  }, async (req, reply) => {
    const { username, password } = req.body as { username: string; password: string };
    const waitSec = await beginLogin(db, username, opts.loginBackoff);
    if (waitSec !== null) {
      reply.header('retry-after', String(waitSec));
      throw new HttpError(429, `too many logins of this username without success: try again in ${waitSec} s`);
    }
    const user = (await db.query<User & { password_hash: string; disabled: boolean; session_epoch: number }>(sql('auth/user_by_name'), [username])).rows[0];
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) throw new HttpError(401, 'wrong username or password');
    await loginSucceeded(db, username);
    if (user.disabled) throw new HttpError(403, `user ${user.username} is disabled; an admin can enable it again`);
    const sessionId = newToken('');
    const csrfToken = newToken('');
    await sessions.create(tokenHash(sessionId), user.id, csrfToken, opts.sessionMaxSec, opts.sessionIdleSec, user.session_epoch);
    const secure = opts.cookieSecure === 'always' || (opts.cookieSecure === 'auto' && (req.protocol === 'https' || LOOPBACK.has(req.hostname)));
    reply.setCookie(SESSION_COOKIE, sessionId, { httpOnly: true, secure, sameSite: 'strict', path: '/', maxAge: opts.sessionMaxSec });
    return { user: { id: user.id, username: user.username, role: user.role }, csrfToken, idleTimeoutSec: opts.sessionIdleSec };
  });

  app.post('/auth/logout', { schema: { tags: ['auth'], summary: 'End the browser session' }, config: { minRole: 'viewer' } }, async (req, reply) => {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) await sessions.delete(tokenHash(cookie));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { loggedOut: true };
  });

  app.get('/auth/me', { config: { noStore: true }, schema: { tags: ['auth'], summary: 'The caller, and the CSRF token of its session' } }, async (req) => ({ user: req.user, via: req.authVia, csrfToken: req.csrfToken }));

  app.post('/auth/tokens', {
    config: { minRole: 'viewer', noStore: true },
    schema: {
      tags: ['auth'], summary: 'A new API token for the caller (shown once)',
      description: 'It never ranks above, nor outlives, the token or browser session that makes it; revoking the token that made it revokes it too. '
        + `Without lifetimeSec it lives apiTokenDefaultLifetimeSec (${opts.tokenLimits.defaultSec} s) or until its maker expires, whichever is sooner.`,
      body: object({
        name: { type: 'string', minLength: 1, maxLength: 100 },
        lifetimeSec: { type: 'integer', minimum: MIN_TOKEN_LIFETIME_SEC, maximum: opts.tokenLimits.maxSec },
        role: { type: 'string', enum: [...USER_ROLES], description: 'default: the role of the credential that makes it' },
      }, ['name']),
    },
  }, async (req, reply) => {
    const b = req.body as { name: string; lifetimeSec?: number; role?: UserRole };
    try {
      const made = await createToken(db, req.user!.username, b.name, b.lifetimeSec ?? null, {
        role: b.role, limits: opts.tokenLimits, maker: { role: req.user!.role, expiresAt: req.authExpiresAt, tokenId: req.authTokenId },
      });
      return reply.code(201).send(made);
    } catch (err) {
      if (err instanceof TokenRefused) throw new HttpError(err.status, `${err.field}: ${err.message}`, err.field);
      throw err;
    }
  });

  app.get('/auth/tokens', {
    schema: { tags: ['auth'], summary: "The caller's API tokens (never the token itself); admins may ask for every user's with all=true", querystring: object({ all: { type: 'boolean', default: false } }) },
  }, async (req) => {
    const { all } = req.query as { all: boolean };
    if (all && req.user!.role !== 'admin') throw new HttpError(403, `querystring.all: only admins see every user's tokens; ${req.user!.username} is ${req.user!.role}`, 'querystring.all');
    return { tokens: await listTokens(db, all ? null : req.user!.id) };
  });

  app.delete('/auth/tokens/:tokenId', {
    config: { minRole: 'viewer' },
    schema: { tags: ['auth'], summary: 'Revoke an API token (your own; admins: anyone\'s) and every token made with it: every API copy refuses them from the next request on', params: object({ tokenId: idParam }, ['tokenId']) },
  }, async (req, reply) => {
    const { tokenId } = req.params as { tokenId: string };
    const revoked = await revokeToken(db, tokenId, req.user!.role === 'admin' ? null : req.user!.id);
    if (!revoked) throw notFound(`no API token ${tokenId}${req.user!.role === 'admin' ? '' : ` of ${req.user!.username}`}`);
    return reply.code(204).send();
  });
}
