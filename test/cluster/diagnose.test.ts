// keel ha diagnose against faults induced on a real Patroni cluster (3 nodes, one etcd,
// HAProxy): healthy, it finds nothing; with Patroni paused, a replica node killed, or etcd
// gone (quorum lost), it names the fault and the command that fixes it, and exits 1.
// KEEL_PATRONI_URLS lists every member, so a dead one is named before its key expires.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startPgCluster, type PgCluster } from '../../tools/pg-cluster/cluster.js';
import { createDatabase, databaseUrl } from '../../tools/pg-cluster/failover.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';
import { runKeel } from '../support/cli.js';

const DB = 'keel_diagnose';
let cluster: PgCluster;
let url: string;

before(async () => {
  cluster = await startPgCluster({ synchronous: false, log: (m) => console.log(`# ${m}`) });
  await createDatabase(cluster.urls.rw, DB);
  url = databaseUrl(cluster.urls.rw, DB);
  const db = new Database(url, { size: 1, applicationName: 'keel-diagnose-test' });
  await migrate(db);
  await db.close();
});
after(async () => { await cluster?.stop(); });

async function diagnose(): Promise<{ code: number | null; findings: { problem: string; fix: string }[] }> {
  const patroni = cluster.nodes.map((n) => `http://127.0.0.1:${n.apiPort}`).join(',');
  const r = await runKeel(['--json', 'ha', 'diagnose'], { KEEL_DATABASE_URL: url, KEEL_PATRONI_URLS: patroni, KEEL_ETCD_ENDPOINTS: cluster.etcdUrl });
  return { code: r.code, findings: JSON.parse(r.stdout).findings };
}
const problems = (f: { problem: string }[]) => f.map((x) => x.problem);

test('a healthy cluster: nothing found, exit 0', async () => {
  const r = await diagnose();
  assert.deepEqual(r.findings, []);
  assert.equal(r.code, 0);
});

test('Patroni paused: named, with `patronictl … resume`', async () => {
  await cluster.setPaused(true);
  try {
    const r = await diagnose();
    assert.equal(r.code, 1);
    assert.deepEqual(r.findings, [{ problem: 'Patroni is paused (maintenance mode): it fails nothing over and restarts nothing', fix: 'patronictl -c /etc/patroni/patroni.yml resume' }]);
  } finally {
    await cluster.setPaused(false);
  }
});

test('a replica node killed: the member is no failover target', async () => {
  const leader = await cluster.leader();
  const replica = cluster.nodes.find((n) => n.name !== leader)!.name;
  cluster.killNode(replica);
  try {
    const api = `http://127.0.0.1:${cluster.node(replica).apiPort}`;
    const r = await diagnose();
    assert.equal(r.code, 1);
    assert.ok(problems(r.findings).some((p) => p.startsWith(`the Patroni member at ${api} does not answer`) && p.endsWith('it is no failover target')), JSON.stringify(problems(r.findings)));
  } finally {
    await cluster.restartNode(replica);
    await cluster.waitHealthy();
  }
});

test('etcd gone (quorum lost): named before Patroni demotes the primary, with how to restore it', async () => {
  await cluster.stopEtcd();
  try {
    const r = await diagnose();
    assert.equal(r.code, 1);
    const etcd = r.findings.find((f) => f.problem.startsWith('etcd does not answer'));
    assert.ok(etcd, `etcd named in ${JSON.stringify(problems(r.findings))}`);
    assert.match(etcd.problem, /Patroni cannot renew its leader key/);
    assert.match(etcd.fix, /systemctl start etcd/);
  } finally {
    await cluster.startEtcd();
    await cluster.waitHealthy();
  }
  assert.deepEqual((await diagnose()).findings, [], 'healthy again');
});
