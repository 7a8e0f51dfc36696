// Components, HA events and the database's role, as `keel ha status` and `keel ha events` show them.
import type { FastifyInstance } from 'fastify';
import { sql } from '../../db/sql.js';
import type { Database } from '../../db/database.js';
import { limit, object } from '../schemas.js';
import { readOperatorNotice } from '../../ha/operator-notice.js';
import { runAudit, type AuditOptions } from '../../ha/audit.js';
import type { DatabaseWritability } from '../writability.js';

export function haRoutes(app: FastifyInstance, db: Database, auditOptions: AuditOptions, writability: DatabaseWritability): void {
  app.get('/ha/audit', {
    schema: {
      tags: ['ha'], summary: 'keel ha audit: live copies per role, node and zone, the database topology, each single point of failure, and capacity without the largest node (N+1) or two (N+2); ok false when a single point of failure was found',
      querystring: object({ windowSec: { type: 'integer', minimum: 60, maximum: 30 * 86400, default: 3600, description: 'the load window capacity is checked against' } }),
    },
  }, async (req) => runAudit(db, auditOptions, (req.query as { windowSec: number }).windowSec));
  // The HA dashboard's redundancy table: the audit's per-role and database verdicts.
  app.get('/ha', {
    schema: { tags: ['ha'], summary: 'Redundancy for the HA dashboard: every role with its copies alive and configured (expectedCopies), the database with its streaming replicas, and each single point of failure (keel ha audit over the last hour)' },
  }, async () => {
    const a = await runAudit(db, auditOptions, 3600);
    return {
      roles: a.roles.map((r) => ({ role: r.role, alive: r.copies, configured: r.expected, nodes: r.nodes, status: r.status, singlePointOfFailure: r.singlePointOfFailure, note: r.note })),
      database: a.database, singlePointsOfFailure: a.singlePointsOfFailure, findings: a.findings,
    };
  });
  app.get('/components', { schema: { tags: ['ha'], summary: 'Every component with role, host, state and heartbeat age; the database' } }, async () => ({
    database: (await db.query(sql('cli/ha_database'))).rows[0],
    components: (await db.query(sql('cli/ha_components'))).rows,
  }));
  // Public: the banner is for the login page too; it holds only what operators chose to tell every visitor.
  app.get('/notice', { config: { public: true }, schema: { tags: ['ha'], summary: 'The operator notice: maintenance mode (no runs created or queued) with its message, the announcement banner, and databaseReadOnly (writes refused with 503 while true)' } }, async () => ({
    ...(await readOperatorNotice(db)), databaseReadOnly: await writability.readOnly(),
  }));
  app.get('/haEvents', {
    schema: { tags: ['ha'], summary: 'HA events, newest first', querystring: object({ limit: limit(1000, 100), kind: { type: 'string', maxLength: 100 } }) },
  }, async (req) => {
    const f = req.query as { limit: number; kind?: string };
    return { events: (await db.query(sql('cli/ha_events'), [f.limit, f.kind ?? null])).rows };
  });
}
