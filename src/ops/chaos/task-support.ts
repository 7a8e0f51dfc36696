// What the chaos DAG's tasks use of Keel's chaos harness, exported as `keel/chaos`: a DAG's
// bundle holds the DAG's own modules only, and the harness's ledger reads its SQL files
// from Keel's install, so the DAG imports it as a package, like any installed dependency.
export { recordEvent } from './history.js';
export { approvalKey } from './keys.js';
