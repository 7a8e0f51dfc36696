// `npm run pg-cluster`: starts the 3-node Patroni cluster with HAProxy and PgBouncer on
// loopback ports, prints its URLs as JSON, and stops everything it started on Ctrl-C (or
// after --for-sec seconds). Options: --sync (synchronous_mode on), --keep (keep the folder).
import { startPgCluster } from './cluster.js';

const args = process.argv.slice(2);
const forSec = Number(args[args.indexOf('--for-sec') + 1] ?? 0);
const cluster = await startPgCluster({
  synchronous: args.includes('--sync'),
  keepDir: args.includes('--keep'),
  log: (m) => console.error(m),
});
console.log(JSON.stringify({ dir: cluster.dir, leader: await cluster.leader(), urls: cluster.urls, haproxyStats: cluster.statsUrl }, null, 2));
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (args.includes('--for-sec')) setTimeout(() => void stop(), forSec * 1000);
else console.error('pg-cluster: running; Ctrl-C stops it');
