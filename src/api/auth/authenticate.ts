// Who is calling: an API token (`Authorization: Bearer keel_…`, looked up in PostgreSQL)
// or a browser session cookie (looked up in the session store: PostgreSQL or Redis), so
// that any API copy serves any caller. Writes
// made with a session cookie must carry the session's CSRF token in `X-CSRF-Token`
// (tokens are not sent by browsers on their own, so they need none). Viewers may only read.
// A token's role is the lower of its own and its user's; a disabled user's credentials,
// and sessions from before its sessions were ended, are refused.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';
import { HttpError, readOnlyError } from '../errors.js';
import type { DatabaseWritability } from '../writability.js';
import type { SessionStore } from '../sessions/store.js';
import { rankOf, type UserRole } from '../../auth/roles.js';
import { tokenHash } from '../../auth/tokens.js';
import type { User } from '../../auth/users.js';

export const SESSION_COOKIE = 'keel_session';
export const CSRF_HEADER = 'x-csrf-token';
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    authVia: 'token' | 'session' | null;
    csrfToken: string | null;
    /** The caller's token (null: a session or none), and when its token or session expires. */
    authTokenId: string | null;
    authExpiresAt: Date | null;
  }
  interface FastifyContextConfig {
    /** No authentication (login, health, OpenAPI document). */
    public?: boolean;
    /** Least role the route needs; default: viewer for reads, op for writes. */
    minRole?: UserRole;
    /** Answers carry credentials or who the caller is: `Cache-Control: no-store`. */
    noStore?: boolean;
    /** The answer is sent as the route made it, not renamed to camelCase (the OpenAPI document). */
    keepShape?: boolean;
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerAuthentication(app: FastifyInstance, db: Database, sessions: SessionStore, opts: { sessionIdleSec: number; writability: DatabaseWritability }): void {
  app.decorateRequest('user', null);
  app.decorateRequest('authVia', null);
  app.decorateRequest('csrfToken', null);
  app.decorateRequest('authTokenId', null);
  app.decorateRequest('authExpiresAt', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const config = request.routeOptions.config;
    if (config.noStore) reply.header('cache-control', 'no-store');
    // A read-only database: authenticate without writing, refuse writes at once.
    const readOnly = await opts.writability.readOnly();
    const write = !READ_METHODS.has(request.method);
    if (readOnly && write) throw readOnlyError();
    const header = request.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const row = (await db.query<User & { token_id: string; expires_at: Date | null }>(sql(readOnly ? 'auth/api_token_peek' : 'auth/api_token_use'), [tokenHash(header.slice(7).trim())])).rows[0];
      if (!row && !config.public) throw new HttpError(401, 'the API token is unknown, expired or revoked, or its user is disabled');
      request.user = row ? { id: row.id, username: row.username, role: row.role } : null;
      request.authVia = row ? 'token' : null;
      request.authTokenId = row?.token_id ?? null;
      request.authExpiresAt = row?.expires_at ?? null;
    } else {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) {
        const live = await sessions.touch(tokenHash(cookie), opts.sessionIdleSec, { slide: !readOnly });
        if (live) {
          request.user = live.user;
          request.authVia = 'session';
          request.csrfToken = live.csrfToken;
          request.authExpiresAt = live.expiresAt;
        }
      }
    }
    if (config.public) return;
    if (!request.user) throw new HttpError(401, 'not logged in or session expired: log in with POST /api/v1/auth/login, or send Authorization: Bearer <API token>');
    if (write && request.authVia === 'session') {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, request.csrfToken ?? '')) {
        throw new HttpError(403, `missing or wrong CSRF token: send the ${CSRF_HEADER} header with the csrfToken from GET /api/v1/auth/me`, `headers.${CSRF_HEADER}`);
      }
    }
    const needed = config.minRole ?? (write ? 'op' : 'viewer');
    if (rankOf(request.user.role) < rankOf(needed)) throw new HttpError(403, `this needs the ${needed} role; ${request.user.username} is ${request.user.role}`);
  });
}
