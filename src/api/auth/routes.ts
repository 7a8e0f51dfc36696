// Login, logout, who am I, and API tokens. The login is rate-limited per client address
// with counters in PostgreSQL, so the limit holds across all API copies.
import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.js';
import { HttpError, notFound } from '../errors.js';
import { idParam, object } from '../schemas.js';
import { SESSION_COOKIE } from './authenticate.js';
import { DUMMY_HASH, verifyPassword } from './passwords.js';
import type { SessionStore } from '../sessions/store.js';
import { sql } from '../../db/sql.js';
import { newToken, tokenHash } from './tokens.js';
import { createToken, listTokens, revokeToken } from './users.js';

export interface AuthRouteOptions {
  sessionMaxSec: number;
  sessionIdleSec: number;
  cookieSecure: 'auto' | 'always' | 'never';
  loginRateLimit: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function authRoutes(app: FastifyInstance, db: Database, sessions: SessionStore, opts: AuthRouteOptions): void {
  app.post('/auth/login', {
    config: { public: true, rateLimit: { max: opts.loginRateLimit, timeWindow: 60_000, keyGenerator: (req) => `login:${req.ip}` } },
    schema: { tags: ['auth'], summary: 'Log in; sets an HTTP-only session cookie and returns the CSRF token for writes', body: object({ username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 1, maxLength: 1000 } }, ['username', 'password']) },
  }, async (req, reply) => {
    const { username, password } = req.body as { username: string; password: string };
    const user = (await db.query<{ id: string; username: string; role: string; password_hash: string }>(sql('auth/user_by_name'), [username])).rows[0];
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    if (!user || !ok) throw new HttpError(401, 'wrong username or password');
    const sessionId = newToken('');
    const csrfToken = newToken('');
    await sessions.create(tokenHash(sessionId), user.id, csrfToken, opts.sessionMaxSec, opts.sessionIdleSec);
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

  app.get('/auth/me', { schema: { tags: ['auth'], summary: 'The caller, and the CSRF token of its session' } }, async (req) => ({ user: req.user, via: req.authVia, csrfToken: req.csrfToken }));

  app.post('/auth/tokens', {
    config: { minRole: 'viewer' },
    schema: { tags: ['auth'], summary: 'A new API token for the caller (shown once)', body: object({ name: { type: 'string', minLength: 1, maxLength: 100 }, lifetimeSec: { type: 'integer', minimum: 60 } }, ['name']) },
  }, async (req, reply) => {
    const b = req.body as { name: string; lifetimeSec?: number };
    return reply.code(201).send(await createToken(db, req.user!.username, b.name, b.lifetimeSec ?? null));
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
    schema: { tags: ['auth'], summary: 'Revoke an API token (your own; admins: anyone\'s): every API copy refuses it from the next request on', params: object({ tokenId: idParam }, ['tokenId']) },
  }, async (req, reply) => {
    const { tokenId } = req.params as { tokenId: string };
    const revoked = await revokeToken(db, tokenId, req.user!.role === 'admin' ? null : req.user!.id);
    if (!revoked) throw notFound(`no API token ${tokenId}${req.user!.role === 'admin' ? '' : ` of ${req.user!.username}`}`);
    return reply.code(204).send();
  });
}
