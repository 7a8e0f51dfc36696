// Components, HA events and the database's role, as `keel ha status` and `keel ha events` show them.
import type { FastifyInstance } from 'fastify';
import { sql } from '../../db/sql.js';
import type { Database } from '../../db/database.js';
import { limit, object } from '../schemas.js';
import { readOperatorNotice } from '../../ha/operator-notice.js';
import { databaseCoverage, roleCoverage } from '../../core/ha-coverage.js';
import { readHealth } from '../health.js';

export interface HaRouteOptions {
  /** Copies each role is meant to run (expectedCopies). */
  expectedCopies: Readonly<Record<string, number>>;
  componentDeadAfterSec: number;
}

export function haRoutes(app: FastifyInstance, db: Database, opts: HaRouteOptions): void {
  app.get('/ha', {
    schema: {
      tags: ['ha'], summary: 'Redundancy: every role with its copies alive and configured (expectedCopies), the database with its streaming replicas, and each single point of failure',
    },
  }, async () => {
    const health = await readHealth(db, opts.componentDeadAfterSec);
    const roles = roleCoverage(health.components, opts.expectedCopies);
    const streaming = (health.database.replicas ?? []).filter((r) => r.state === 'streaming').length;
    const database = { ...databaseCoverage(health.database.reachable ? health.database.role ?? null : null, streaming), version: health.database.version ?? null };
    const singlePointsOfFailure = [...roles.filter((r) => r.singlePointOfFailure).map((r) => r.role), ...(database.singlePointOfFailure ? ['database'] : [])];
    return { status: health.status, roles, database, singlePointsOfFailure };
  });
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
