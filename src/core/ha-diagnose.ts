// `keel ha diagnose`: why a failover did not happen or did not finish, each finding with the
// command that fixes it. Pure: fed what src/ha/diagnose.ts read from the database, Patroni's
// REST API and etcd (each of which may not answer, which is itself a finding).

export interface DiagnoseInput {
  database: { reachable: true; inRecovery: boolean; timeline: number | null } | { reachable: false; error: string };
  /** Replicas streaming from the primary (pg_stat_replication); null when the database is unreachable. */
  replicas: { name: string; state: string; replayLagSec: number | null }[] | null;
  /** null: no Patroni URL configured. */
  patroni: {
    reachable: true; paused: boolean; members: { name: string; role: string; state: string; timeline: number | null; lagBytes: number | null }[];
    /** Configured members whose REST API did not answer. */
    silent: { url: string; error: string }[];
  }
    | { reachable: false; error: string } | null;
  /** null: no etcd endpoints configured. */
  etcd: { reachable: true; healthy: boolean; members: number } | { reachable: false; error: string } | null;
  /** Live components with the database each one sees (heartbeat details). */
  components: { role: string; hostname: string; pid: number; db: { server: string | null; timeline: number | null; fit: boolean; verdict: string | null } | null }[];
  leases: { expiredRunning: number; oldestExpiredSec: number | null; expiredTriggers: number; liveSchedulers: number; liveTriggerers: number; fencingAllowed: boolean };
  replicaLagWarnSec: number;
  /** Lease expiry older than this without a fence is stuck (a few sweep periods). */
  stuckAfterSec: number;
}

export interface Diagnosis { problem: string; fix: string }

function patroniFindings(p: NonNullable<DiagnoseInput['patroni']>, lagWarnBytes: number): Diagnosis[] {
  if (!p.reachable) return [{ problem: `Patroni's REST API does not answer (${p.error})`, fix: 'check that Patroni runs on that node (systemctl status patroni) and KEEL_PATRONI_URL; `patronictl -c /etc/patroni/patroni.yml list` shows the cluster' }];
  const out: Diagnosis[] = p.silent.map((s) => ({
    problem: `the Patroni member at ${s.url} does not answer (${s.error}): it is no failover target`,
    fix: 'start its Patroni (systemctl start patroni on that node) and read its log; `patronictl -c /etc/patroni/patroni.yml list` shows what the others see',
  }));
  if (p.paused) out.push({ problem: 'Patroni is paused (maintenance mode): it fails nothing over and restarts nothing', fix: 'patronictl -c /etc/patroni/patroni.yml resume' });
  const leader = p.members.find((m) => m.role === 'leader' || m.role === 'standby_leader');
  if (!leader) out.push({ problem: `Patroni has no leader (members: ${p.members.map((m) => `${m.name} ${m.role} ${m.state}`).join(', ') || 'none'})`, fix: 'if etcd is healthy and a replica is up to date: patronictl -c /etc/patroni/patroni.yml failover --candidate <replica>; see docs/runbooks/failover.md' });
  for (const m of p.members) {
    if (m === leader) continue;
    if (m.state !== 'running' && m.state !== 'streaming') out.push({ problem: `Patroni member ${m.name} is ${m.state}: it is no failover target`, fix: `start its Patroni (systemctl start patroni on ${m.name}) and read its log; if its data is broken: patronictl -c /etc/patroni/patroni.yml reinit <scope> ${m.name}` });
    else if (leader?.timeline != null && m.timeline != null && m.timeline < leader.timeline && m.state !== 'streaming') out.push({ problem: `Patroni member ${m.name} is on timeline ${m.timeline}, the leader on ${leader.timeline}: it diverged and does not follow`, fix: `patronictl -c /etc/patroni/patroni.yml reinit <scope> ${m.name} (or let use_pg_rewind rewind it on restart)` });
    else if (m.lagBytes !== null && m.lagBytes > lagWarnBytes) out.push({ problem: `Patroni member ${m.name} lags ${m.lagBytes} bytes behind the leader`, fix: 'see docs/runbooks/replication-lag.md' });
  }
  return out;
}

export function diagnose(input: DiagnoseInput): Diagnosis[] {
  const out: Diagnosis[] = [];
  const db = input.database;
  if (!db.reachable) out.push({ problem: `Keel cannot reach its database (${db.error})`, fix: 'see which node leads (patronictl list) and whether HAProxy routes to it; docs/runbooks/database-unreachable.md' });
  else if (db.inRecovery) out.push({ problem: 'Keel\'s database URL reaches a standby (in recovery): every write fails', fix: 'point KEEL_DATABASE_URL at the primary\'s router (HAProxy checking Patroni\'s /primary); if no primary exists, see the Patroni findings' });

  const e = input.etcd;
  if (e && !e.reachable) out.push({ problem: `etcd does not answer (${e.error}): Patroni cannot renew its leader key, so the primary is demoted after ttl and no failover can happen`, fix: 'restore etcd quorum: start the members (systemctl start etcd) and check `etcdctl endpoint health --cluster`' });
  else if (e && !e.healthy) out.push({ problem: `etcd answers but is not healthy (${e.members} member(s)): it has lost quorum`, fix: 'start the missing members until a majority runs: `etcdctl member list`, `etcdctl endpoint health --cluster`' });

  if (input.patroni) out.push(...patroniFindings(input.patroni, 16 * 1024 * 1024));

  if (db.reachable && !db.inRecovery && input.replicas) {
    if (input.replicas.length === 0) out.push({ problem: 'no replica streams from the primary: a failover has no target and may lose data', fix: 'start the replicas (Patroni members) and check their logs; docs/runbooks/replication-lag.md' });
    for (const r of input.replicas) {
      if (r.state !== 'streaming') out.push({ problem: `replica ${r.name} is ${r.state}, not streaming`, fix: 'docs/runbooks/replication-lag.md' });
      else if (r.replayLagSec !== null && r.replayLagSec > input.replicaLagWarnSec) out.push({ problem: `replica ${r.name} replays ${r.replayLagSec.toFixed(1)} s behind`, fix: 'docs/runbooks/replication-lag.md' });
    }
  }

  const primaryTimeline = db.reachable ? db.timeline : null;
  for (const c of input.components) {
    const who = `${c.role} on ${c.hostname} (pid ${c.pid})`;
    if (c.db && !c.db.fit) out.push({ problem: `${who} is on a server that is not the primary (${c.db.verdict ?? 'unfit'}${c.db.server ? `, ${c.db.server}` : ''}): it takes no work`, fix: 'it reconnects through its URL by itself; if it stays unfit, check its KEEL_DATABASE_URL and restart it' });
    else if (c.db?.timeline != null && primaryTimeline !== null && c.db.timeline < primaryTimeline) out.push({ problem: `${who} last saw timeline ${c.db.timeline}; the primary is on ${primaryTimeline}`, fix: 'it follows within its next primary check (dbPrimaryCheckMs); if it does not, restart it' });
  }

  const l = input.leases;
  const cause = (live: number, role: string) => (live === 0 ? `no live ${role}` : !l.fencingAllowed ? 'fencing waits out the outage grace after a database disruption (dbOutageGraceSec)' : `the ${role}s do not sweep`);
  const fixFor = (live: number, role: string) => (live === 0 ? `start a ${role} (keel ${role})` : !l.fencingAllowed ? 'wait for the grace to pass, or move the work now: keel ha fence <component> --reason …' : `read the ${role}s' logs (keel ha status shows them)`);
  if (l.expiredRunning > 0 && (l.oldestExpiredSec ?? 0) > input.stuckAfterSec) {
    out.push({ problem: `${l.expiredRunning} running attempt(s) have leases that expired up to ${Math.round(l.oldestExpiredSec ?? 0)} s ago and are not fenced: ${cause(l.liveSchedulers, 'scheduler')}`, fix: fixFor(l.liveSchedulers, 'scheduler') });
  }
  if (l.expiredTriggers > 0 && (l.liveTriggerers === 0 || !l.fencingAllowed)) {
    out.push({ problem: `${l.expiredTriggers} trigger(s) have expired leases and nobody took them: ${cause(l.liveTriggerers, 'triggerer')}`, fix: fixFor(l.liveTriggerers, 'triggerer') });
  }
  return out;
}
