// The cluster's last disruption: when a component reconnects after losing the database,
// it records the time and the timeline it now writes on. The fencing statements (through
// keel_fencing_allowed(), migration 0009) wait `dbOutageGraceSec` after it and after a
// server start, and do not act at all on a timeline nobody has recorded yet (a promoted
// replica), so that a database restart or failover never mass-expires the leases of a
// fleet that is still reconnecting.
// Rule "outage grace": src/fencing/INVARIANTS.md; docs/decisions/0003-no-fencing-during-a-disruption.md.
import type { Queryable } from '../db/queryable.js';
import { sql } from '../db/sql.js';

export async function recordDisruption(db: Queryable, componentId: string | null, reason: string): Promise<void> {
  await db.query(sql('fencing/keel_cluster_record_disruption'));
  await db.query(sql('ha/ha_event_insert'), ['failover_detected', componentId, { reason }]);
}
