// Sessions in the Keel database (the default): rows of web_session, swept now and then.
import type { Database } from '../../db/database.js';
import { sql } from '../../db/sql.js';
import type { User } from '../../auth/users.js';
import type { SessionStore } from './store.js';

export function postgresSessionStore(db: Database): SessionStore {
  return {
    kind: 'postgres',
    async create(idHash, userId, csrfToken, maxSec, _idleSec, userEpoch) {
      await db.query(sql('auth/web_session_insert'), [idHash, userId, csrfToken, maxSec, userEpoch]);
    },
    async touch(idHash, idleSec, opts = { slide: true }) {
      const row = (await db.query<User & { csrf_token: string; expires_at: Date }>(sql(opts.slide ? 'auth/web_session_touch' : 'auth/web_session_peek'), [idHash, idleSec])).rows[0];
      return row ? { user: { id: row.id, username: row.username, role: row.role }, csrfToken: row.csrf_token, expiresAt: row.expires_at } : null;
    },
    async delete(idHash) {
      await db.query(sql('auth/web_session_delete'), [idHash]);
    },
    async sweep(idleSec) {
      await db.query(sql('auth/web_sessions_sweep'), [idleSec]);
    },
    async check() {},
    async close() {},
  };
}
