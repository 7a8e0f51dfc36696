// `keel backup --to DIR`, `keel backup verify --from DIR` and `keel restore --from DIR --to
// DATA_DIR` (src/backup/, docs/disaster-recovery.md). Exit codes: 0 ok, 1 a failed check or
// a failure, 2 bad input (nothing written).
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { takeBackup, embeddedSecretKey } from '../backup/backup.js';
import { restoreBackup } from '../backup/restore.js';
import { verifyBackup, type VerifyReport } from '../backup/verify.js';
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import type { KeelOptions } from '../config/options.js';
import { migrate } from '../db/migrate.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { openDatabase } from '../runtime/database.js';
import { printJson } from './output.js';

interface Globals { config?: string; json?: boolean }

/** The config file in effect: --config, KEEL_CONFIG, else keel.config.json here when present. */
function configFileOf(cmd: Command): string | null {
  const explicit = cmd.optsWithGlobals<Globals>().config ?? process.env.KEEL_CONFIG;
  const file = resolve(explicit ?? DEFAULT_CONFIG_FILE);
  return existsSync(file) ? file : null;
}

function printVerify(r: VerifyReport): void {
  console.log(`backup ${r.backup}: ${r.ok ? 'restores and passes every check' : 'FAILED a check'}`);
  console.log(`recovery point: WAL ${r.recoveryPoint.lsn} on timeline ${r.recoveryPoint.timeline}, backup finished ${r.recoveryPoint.backupFinishedAt} (system ${r.recoveryPoint.systemId})`);
  console.log(`schema: version ${r.schemaVersion.restored} restored (manifest ${r.schemaVersion.backup}), migrated to ${r.schemaVersion.migratedTo}`);
  console.log(`last committed run: ${r.lastRun ? `${r.lastRun.dag_id} ${r.lastRun.run_id} (id ${r.lastRun.id}, ${r.lastRun.state}, created ${r.lastRun.created_at})` : '(none)'}`);
  if (r.counts) console.log(`counts: ${Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`attempts running at the recovery point, fenced and retried per policy: ${r.attemptsFenced}`);
  for (const c of r.checks) console.log(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
}

export function addBackupCommands(program: Command, optionsFrom: (cmd: Command) => KeelOptions): void {
  const backup = program.command('backup').description("a consistent physical backup of Keel's database (pg_basebackup with its WAL), its config file (secrets redacted) and a manifest, into a new or empty folder; the secret key only with --secret-key-to")
    .option('--to <dir>', 'the backup folder (new or empty)')
    .option('--secret-key-to <file>', 'also write the secret key to this new file (0600), to keep apart from the backup; without it the key is NOT in the backup')
    .action(async (o: { to?: string; secretKeyTo?: string }, cmd: Command) => {
      if (!o.to) throw new UsageError('backup: --to <dir> is required (a new or empty folder); or `keel backup verify --from <dir>`');
      const options = optionsFrom(cmd);
      const json = Boolean(cmd.optsWithGlobals<Globals>().json);
      const log = createLogger({ level: 'warn', format: options.logFormat });
      const database = await openDatabase(options, log, 'cli');
      try {
        await migrate(database);
        const embedded = database.embedded;
        const r = await takeBackup(database, {
          url: embedded?.url ?? options.databaseUrl!, source: embedded ? 'embedded' : 'server', to: o.to, configFile: configFileOf(cmd),
          secretKey: options.secretKey ?? (embedded ? embeddedSecretKey(options.dataDir) ?? undefined : undefined), secretKeyTo: o.secretKeyTo,
        });
        const keyNote = r.manifest.secretKey === 'file' ? `the secret key is in ${r.secretKeyFile} (0600): keep it apart from the backup`
          : r.manifest.secretKey === 'not-included' ? 'the secret key is NOT in the backup: escrow it separately (or take the backup with --secret-key-to FILE); without it, restored connection passwords cannot be read'
            : 'no secret key is configured';
        if (json) printJson({ ...r, secretKeyNote: keyNote });
        else {
          console.log(`backup in ${r.dir}: schema ${r.manifest.schemaVersion}, system ${r.manifest.systemId}, timeline ${r.manifest.timeline}, recovery point ${r.recoveryLsn}, ${r.manifest.counts.dag_runs} run(s)${r.manifest.lastRun ? `, last ${r.manifest.lastRun.dag_id} ${r.manifest.lastRun.run_id}` : ''}`);
          console.log(r.manifest.configFile ? `config file copied with secrets redacted: ${r.manifest.configFile}` : 'no config file to copy');
          console.log(keyNote);
        }
      } finally {
        await database.close();
      }
    });
  backup.command('verify').description('restore a backup into a scratch server (temp folder, free loopback port), run the schema and integrity checks, print what it restored, remove the scratch server; exit 1 on a failed check')
    .requiredOption('--from <dir>', 'the backup folder')
    .action(async (o: { from: string }, cmd: Command) => {
      const r = await verifyBackup(resolve(o.from));
      if (cmd.optsWithGlobals<Globals>().json) printJson(r);
      else printVerify(r);
      if (!r.ok) process.exitCode = 1;
    });
  program.command('restore').description('restore a backup into a new Keel data folder, then fence the fleet it was taken from: attempts running at the recovery point are retried per policy, old processes take no work on it')
    .requiredOption('--from <dir>', 'the backup folder (from `keel backup --to`)')
    .requiredOption('--to <dataDir>', 'the new data folder (must not exist or be empty); start Keel on it with KEEL_DATA_DIR')
    .option('--secret-key-from <file>', 'the secret key file `keel backup --secret-key-to` wrote: becomes <dataDir>/secret-key')
    .action(async (o: { from: string; to: string; secretKeyFrom?: string }, cmd: Command) => {
      const r = await restoreBackup({ from: o.from, to: o.to, secretKeyFrom: o.secretKeyFrom });
      if (cmd.optsWithGlobals<Globals>().json) return printJson(r);
      console.log(`restored the backup of ${r.manifest.finishedAt} (recovery point ${r.manifest.recoveryLsn}, schema ${r.restoredSchemaVersion}) into ${r.dir}`);
      console.log(`fenced ${r.fence?.components.length ?? 0} component(s) of the old fleet; ${r.fence?.attempts.length ?? 0} attempt(s) running at the recovery point fenced and retried per policy`);
      console.log(r.manifest.database === 'postgres'
        ? `start Keel on it: KEEL_DATA_DIR=${r.dir} keel standalone`
        : `start it as a server of its own (data in ${r.dir}/pgdata, superuser keel, password in ${r.dir}/postgres-password) and point KEEL_DATABASE_URL at database ${r.manifest.database}`);
      if (!o.secretKeyFrom && r.manifest.secretKey !== 'none') console.log(`no secret key given: put the escrowed key in ${r.dir}/secret-key (0600) or KEEL_SECRET_KEY before starting`);
    });
}
