// Components, HA events and the database's role, as `keel ha status` and `keel ha events` show them.
import type { FastifyInstance } from 'fastify';
import { sql } from '../../db/sql.js';
import type { Database } from '../../db/database.js';
import { limit, object } from '../schemas.js';
import { readOperatorNotice } from '../../ha/operator-notice.js';

export function haRoutes(app: FastifyInstance, db: Database): void {
  app.get('/components', { schema: { tags: ['ha'], summary: 'Every component with role, host, state and heartbeat age; the database' } }, async () => ({
    database: (await db.query(sql('cli/ha_database'))).rows[0],
    components: (await db.query(sql('cli/ha_components'))).rows,
  }));
  // Public: the banner is for the login page too; it holds only what operators chose to tell every visitor.
  app.get('/notice', { config: { public: true }, schema: { tags: ['ha'], summary: 'The operator notice: maintenance mode (no runs created or queued) with its message, and the announcement banner' } }, async () => readOperatorNotice(db));
  app.get('/haEvents', {
    schema: { tags: ['ha'], summary: 'HA events, newest first', querystring: object({ limit: limit(1000, 100), kind: { type: 'string', maxLength: 100 } }) },
  }, async (req) => {
    const f = req.query as { limit: number; kind?: string };
    return { events: (await db.query(sql('cli/ha_events'), [f.limit, f.kind ?? null])).rows };
  });
}
