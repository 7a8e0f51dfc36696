// The DAG processor role: scan the DAGs folder, parse new, changed and stale files in
// isolated children, validate, store. A broken file is recorded as an import error and
// never stops the loop.
//
// Several processors share one folder. Every one of them lists the folder (cheap) on each
// scan; only parsing is split, by a lease per file in `dag_file_lease` (database clock).
// Each processor holds about its share of the files (files / live processors), gives back
// what is above its share when a peer joins, and takes over the files of a peer that died
// (its session lock is gone) or froze (its leases expired). Whether a file needs parsing
// is read from `dag_file` (content hash and age of the last parse, whoever made it), so a
// file that moves to another processor is not parsed again. A store is fenced by the
// lease: a processor that lost a file while it was parsing stores nothing.
//
// Deactivation happens only in `dag_file_delete_missing`, when a live processor's listing
// misses a file that was parsed before that listing was taken; a processor that dies, or
// whose folder cannot be read, deactivates nothing.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { validateDag } from '../core/dag-graph.js';
import type { Database, Tx } from '../db/database.js';
import { sql } from '../db/sql.js';
import { COMPONENT_LOCK_CLASS } from '../ha/session.js';
import type { Logger } from '../log.js';
import { BundleTooLarge, collectBundle, type DagBundle } from './bundle.js';
import { LoaderPool } from './parse-file.js';
import { storeImportError, storeParsedFile } from './store.js';

export interface ProcessorOptions {
  dagsFolder: string;
  dagFileTimeoutSec: number;
  dagReparseIntervalSec: number;
  /** This processor's component id: files are split with the other processors by leases. Unset: it parses every file itself. */
  componentId?: string;
  dagFileLeaseSec?: number;
  /** A holder whose session lock is gone and whose heartbeat is older than this has died: its files are taken over. */
  dagProcessorLostAfterSec?: number;
  /** Processors whose heartbeat is older than this do not count when the files are shared out. */
  componentDeadAfterSec?: number;
  dbOutageGraceSec?: number;
  /** Files loaded at once, each in its own loader process (default 1). */
  dagParseConcurrency?: number;
  /** Called every second while the processor runs (even during a long scan): the liveness probe. */
  onTick?: () => void;
  /** Called after every parse (metrics). */
  onParsed?: (fileloc: string, seconds: number, ok: boolean) => void;
  /** Environment variables DAG files may see besides the fixed list (taskEnvAllow). */
  taskEnvAllow?: readonly string[];
  /** Largest bundle (the file and the local modules it imports) stored (dagBundleMaxBytes). */
  dagBundleMaxBytes?: number;
}

const DEFAULT_BUNDLE_MAX_BYTES = 10 * 1024 * 1024;

const DAG_FILE = /\.(ts|mts|js|mjs)$/;
/** How often the split of the files between processors is looked at (peers joining, dying, freezing). */
const BALANCE_EVERY_MS = 1000;
const CLASH = /is already defined in /;

export interface Listing {
  files: string[];
  /** False when the folder itself could not be read: nothing may be deactivated from such a listing. */
  ok: boolean;
}

export function listDagFolder(folder: string): Listing {
  const out: string[] = [];
  let ok = true;
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      if (dir === folder) ok = false;
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (DAG_FILE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(relative(folder, p).split(sep).join('/'));
    }
  };
  walk(folder);
  return { files: out.sort(), ok };
}

export function listDagFiles(folder: string): string[] {
  return listDagFolder(folder).files;
}

export interface ScanResult {
  parsed: string[];
  errors: Record<string, string>;
  deactivated: string[];
}

interface ParseState {
  content_hash: string | null;
  import_error: string | null;
  age_sec: number | null;
}

export class DagProcessor {
  /** Files whose DAG ids another file owned at their last parse: parsed again on every scan until that resolves. */
  private readonly clashed = new Set<string>();
  /** Files whose lease this processor holds (HA mode). */
  private readonly held = new Set<string>();
  /** One watcher per folder, by realpath, device and inode. */
  private readonly watchers = new Map<string, FSWatcher>();
  private changed: (() => void) | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  /** Files of the scan under way not parsed yet: given back first when a peer joins. */
  private pending = new Set<string>();
  /** The files of the last listing; the balance timer shares them out between scans. */
  private lastListing: string[] | null = null;
  private onTaken: (() => void) | null = null;
  private balanceTimer: NodeJS.Timeout | null = null;
  private filesListed = 0;
  private readonly parsing = new Set<string>();
  private lastScanMs = 0;
  /** Database time at which the last completed scan listed the folder (`keel ha status`): every change before it has been seen. */
  private lastScanListedAt: Date | null = null;
  private loadedTotal = 0;
  /** Files this processor found broken at their last parse. */
  private readonly broken = new Set<string>();
  private stopping = false;

  constructor(private readonly db: Database, private readonly opts: ProcessorOptions, private readonly log: Logger) {}

  private get leaseSec(): number {
    return this.opts.dagFileLeaseSec ?? 30;
  }

  /** What `keel ha status` shows for this processor. */
  details(): Record<string, unknown> {
    return {
      fileLeases: this.held.size, filesListed: this.filesListed, parsing: this.parsing.size, filesLoaded: this.loadedTotal,
      importErrors: [...this.broken].filter((f) => this.held.has(f) || !this.opts.componentId).length, lastScanMs: this.lastScanMs,
      lastScanListedAt: this.lastScanListedAt?.toISOString() ?? null, watching: this.watchers.size > 0,
    };
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** One pass over the folder. */
  async scan(): Promise<ScanResult> {
    const started = Date.now();
    const listedAt = (await this.db.query<{ now: Date }>(sql('db/now'))).rows[0]!.now;
    this.watch();
    const listing = listDagFolder(this.opts.dagsFolder);
    const files = listing.files;
    this.filesListed = files.length;
    const result: ScanResult = { parsed: [], errors: {}, deactivated: [] };
    // Every processor lists and stats the whole folder (cheap: it decides what is gone);
    // only the files this processor holds are read and hashed.
    const present = files.filter((fileloc) => {
      try {
        return statSync(join(this.opts.dagsFolder, fileloc)).isFile();
      } catch {
        return false; // vanished between listing and stat: a later scan deactivates it
      }
    });
    this.lastListing = present;
    const hashes = new Map<string, string>();
    for (const fileloc of this.opts.componentId ? await this.balance(present) : present) {
      try {
        hashes.set(fileloc, createHash('sha256').update(readFileSync(join(this.opts.dagsFolder, fileloc))).digest('hex').slice(0, 16));
      } catch {
        continue; // vanished between listing and reading; a later scan deactivates it
      }
    }
    const mine = [...hashes.keys()];
    const due = await this.dueForParsing(mine, hashes);
    this.pending = new Set(due);
    const loaders = new LoaderPool(this.opts.taskEnvAllow);
    const next = async (): Promise<void> => {
      for (let fileloc = due.shift(); fileloc !== undefined && !this.stopping; fileloc = due.shift()) {
        this.pending.delete(fileloc);
        // Given to a peer that joined (the balance timer runs during the scan), or lost.
        if (this.opts.componentId && !this.held.has(fileloc)) continue;
        const error = await this.processFile(loaders, join(this.opts.dagsFolder, fileloc), fileloc, hashes.get(fileloc)!);
        if (error === undefined) continue; // the lease was lost while parsing: the new holder stores
        result.parsed.push(fileloc);
        if (error) result.errors[fileloc] = error;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, Math.min(this.opts.dagParseConcurrency ?? 1, due.length)) }, next));
    } finally {
      loaders.close();
    }
    result.parsed.sort();
    if (listing.ok) {
      const gone = await this.db.inTransaction(async (tx) => (await tx.query<{ dag_id: string }>(sql('dag-processor/dag_file_delete_missing'), [files, listedAt])).rows);
      result.deactivated = gone.map((r) => r.dag_id);
      if (result.deactivated.length) this.log.info({ dagIds: result.deactivated }, 'DAG file gone: DAGs deactivated');
    } else {
      this.log.warn({ folder: this.opts.dagsFolder }, 'the DAGs folder cannot be read: nothing is deactivated until it can');
    }
    const listed = new Set(files);
    for (const fileloc of this.clashed) if (!listed.has(fileloc)) this.clashed.delete(fileloc);
    for (const fileloc of this.broken) if (!listed.has(fileloc)) this.broken.delete(fileloc);
    for (const fileloc of this.held) if (!listed.has(fileloc)) this.held.delete(fileloc);
    this.lastScanMs = Date.now() - started;
    this.lastScanListedAt = listedAt;
    return result;
  }

  /** Balance turns run one at a time (the scan's and the timer's). */
  private balancing: Promise<unknown> = Promise.resolve();

  private balance(files: string[], fromTimer = false): Promise<string[]> {
    const next = this.balancing.then(() => this.balanceNow(files, fromTimer));
    this.balancing = next.catch((err) => this.log.debug({ err }, 'a DAG file balance turn failed; its caller reports it, the next turn runs anyway'));
    return next;
  }

  /**
   * Keeps this processor at its share of the files (files / live processors): gives back
   * what is above it, preferring files its scan has not parsed yet, so that a peer that
   * joins during a long scan gets work at once; takes free files, expired ones and those
   * of dead holders up to it. Returns the files held.
   */
  private async balanceNow(files: string[], fromTimer: boolean): Promise<string[]> {
    const id = this.opts.componentId!;
    const live = Math.max(1, (await this.db.query<{ n: number }>(sql('dag-processor/dag_processors_live'), [this.opts.componentDeadAfterSec ?? 5, COMPONENT_LOCK_CLASS])).rows[0]?.n ?? 1);
    const share = Math.ceil(files.length / live);
    const listed = new Set(files);
    for (const f of this.held) if (!listed.has(f)) this.held.delete(f);
    if (this.held.size > share) {
      const mine = [...this.held].sort();
      const order = [...mine.filter((f) => this.pending.has(f)).reverse(), ...mine.filter((f) => !this.pending.has(f)).reverse()];
      const release = order.filter((f) => !this.parsing.has(f)).slice(0, this.held.size - share);
      // Out of the held set before the release commits, so that the scan does not start one of them meanwhile.
      for (const f of release) this.held.delete(f);
      await this.db.inTransaction((tx) => tx.query(sql('dag-processor/dag_file_leases_release'), [id, release]));
      this.log.info({ released: release.length, share, processors: live }, 'DAG file leases given back to share the folder');
    } else if (this.held.size < share) {
      const wanted = files.filter((f) => !this.held.has(f));
      const got = await this.db.inTransaction(async (tx) => (await tx.query<{ fileloc: string }>(sql('dag-processor/dag_file_leases_acquire'), [
        id, wanted, this.leaseSec, share - this.held.size, this.opts.dagProcessorLostAfterSec ?? 1, this.opts.dbOutageGraceSec ?? 15, COMPONENT_LOCK_CLASS,
      ])).rows.map((r) => r.fileloc));
      for (const f of got) this.held.add(f);
      if (got.length > 0) {
        this.log.info({ taken: got.length, held: this.held.size, share, processors: live }, 'DAG file leases taken');
        // Taken between scans (a peer died or gave files back): parse what is due now.
        if (fromTimer) this.onTaken?.();
      }
    }
    return [...this.held];
  }

  /** Files among `mine` whose content changed since their last parse (by anyone), never parsed, due again, or in a clash. */
  private async dueForParsing(mine: string[], hashes: Map<string, string>): Promise<string[]> {
    if (mine.length === 0) return [];
    const rows = (await this.db.query<ParseState & { fileloc: string }>(sql('dag-processor/dag_files_parse_state'), [mine])).rows;
    const state = new Map(rows.map((r) => [r.fileloc, r]));
    return mine.filter((fileloc) => {
      const s = state.get(fileloc);
      if (!s || s.content_hash !== hashes.get(fileloc) || s.age_sec === null) return true;
      if (this.clashed.has(fileloc) || (s.import_error !== null && CLASH.test(s.import_error))) return true;
      return s.age_sec >= this.opts.dagReparseIntervalSec;
    });
  }

  /** Returns the import error, null when stored fine, undefined when the lease was lost (nothing stored). */
  private async processFile(loaders: LoaderPool, abs: string, fileloc: string, hash: string): Promise<string | null | undefined> {
    const started = Date.now();
    this.clashed.delete(fileloc);
    this.parsing.add(fileloc);
    const loaded = await loaders.load(abs, fileloc, hash, this.opts.dagFileTimeoutSec).finally(() => { this.parsing.delete(fileloc); });
    if (!loaded.ok && (loaded.interrupted || this.stopping)) {
      // Nothing is stored: the file keeps its last state and is loaded again by the next scan.
      this.log.info({ file: fileloc }, `loading ${fileloc} was interrupted (${loaded.error}); not recorded as an import error`);
      return undefined;
    }
    this.opts.onParsed?.(fileloc, (Date.now() - started) / 1000, loaded.ok);
    let error: string | null;
    if (!loaded.ok) error = loaded.error;
    else {
      const problems = loaded.dags.flatMap((d) => validateDag(d).map((p) => `DAG "${d.dagId}": ${p}`));
      if (loaded.dags.length === 0) problems.push('the file exports no DAG; export the result of dag(...), e.g. `export default dag({ id: ... }, ...)`');
      const ids = loaded.dags.map((d) => d.dagId);
      for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`DAG id "${id}" is defined twice in this file`);
      const bundle = problems.length ? null : await this.bundleOf(abs, fileloc).catch((err: Error) => { problems.push(err.message); return null; });
      if (problems.length || !bundle) error = problems.join('\n');
      else {
        const stored = await this.db.inTransaction(async (tx) => (await this.stillHeld(tx, fileloc)) ? storeParsedFile(tx, fileloc, hash, loaded.dags, bundle) : undefined);
        if (stored === undefined) return this.lost(fileloc);
        error = stored;
        // The only error storing reports is a DAG id owned by another file; that file may let go of it any time.
        if (error) this.clashed.add(fileloc);
      }
    }
    this.loadedTotal++;
    if (error) this.broken.add(fileloc);
    else this.broken.delete(fileloc);
    if (error) {
      const message = error;
      const stored = await this.db.inTransaction(async (tx) => {
        if (!(await this.stillHeld(tx, fileloc))) return false;
        await storeImportError(tx, fileloc, hash, message);
        return true;
      });
      if (!stored) return this.lost(fileloc);
      this.log.error({ file: fileloc }, `import error in ${fileloc}: ${error}`);
    } else if (loaded.ok) {
      this.log.info({ file: fileloc, dagIds: loaded.dags.map((d) => d.dagId), ms: Date.now() - started }, 'DAG file loaded');
    }
    return error;
  }

  private async bundleOf(abs: string, fileloc: string): Promise<DagBundle> {
    try {
      return await collectBundle(abs, this.opts.dagBundleMaxBytes ?? DEFAULT_BUNDLE_MAX_BYTES);
    } catch (err) {
      if (err instanceof BundleTooLarge) throw err;
      // The file loaded, so this is a module its imports reach that cannot be read now.
      this.log.warn({ err, file: fileloc }, 'could not collect the local modules of a DAG file');
      throw new Error(`could not collect the local modules ${fileloc} imports into its bundle: ${(err as Error).message.split('\n').slice(0, 4).join('\n')}`, { cause: err });
    }
  }

  private async stillHeld(tx: Tx, fileloc: string): Promise<boolean> {
    if (!this.opts.componentId) return true;
    return ((await tx.query(sql('dag-processor/dag_file_lease_check'), [fileloc, this.opts.componentId])).rowCount ?? 0) > 0;
  }

  private lost(fileloc: string): undefined {
    this.held.delete(fileloc);
    this.log.warn({ file: fileloc }, 'lease of the DAG file lost while parsing it: the new holder stores it');
    return undefined;
  }

  /**
   * Watches the folder and every folder below it, one plain (non-recursive) watcher each:
   * Node's recursive watcher on Linux loses a file once it was replaced by a rename (how
   * editors and deploy tools save), a directory watch does not. Called on every scan, it
   * follows folders created, removed or swapped (a symlink to a new checkout, as git-sync
   * does); a folder that cannot be watched is seen by the periodic scan only.
   */
  private watch(): void {
    const changed = this.changed;
    if (!changed || this.stopping) return;
    const wanted = new Map<string, string>();
    const walk = (dir: string) => {
      try {
        const st = statSync(dir);
        if (!st.isDirectory()) return;
        wanted.set(`${realpathSync(dir)}:${st.dev}:${st.ino}`, dir);
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules') walk(join(dir, e.name));
        }
      } catch (err) {
        this.log.debug({ err, folder: dir }, 'a DAG folder to watch is gone or not readable; the next scan looks again');
      }
    };
    walk(this.opts.dagsFolder);
    for (const [identity, w] of this.watchers) {
      if (!wanted.has(identity)) {
        w.close();
        this.watchers.delete(identity);
      }
    }
    for (const [identity, dir] of wanted) {
      if (this.watchers.has(identity)) continue;
      try {
        const w = watch(dir, { persistent: false }, () => changed());
        w.on('error', (err) => {
          this.log.warn({ err, folder: dir }, 'watching a DAG folder failed: its changes are seen by the periodic scan until it can be watched again');
          w.close();
          this.watchers.delete(identity);
          changed(); // a scan now looks at the folder and watches it again
        });
        this.watchers.set(identity, w);
      } catch (err) {
        this.log.warn({ err, folder: dir }, 'cannot watch a DAG folder: its changes are seen by the periodic scan only');
      }
    }
  }

  /**
   * Watches the folder and its subfolders and calls `changed` on every
   * event; the periodic scan stays the fallback. Renews the leases while they are held.
   */
  start(changed: () => void): void {
    this.changed = changed;
    this.watch();
    if (this.opts.componentId) {
      this.onTaken = changed;
      this.renewTimer = setInterval(() => void this.renew(), Math.min(10_000, (this.leaseSec * 1000) / 3));
      this.renewTimer.unref();
      this.balanceTimer = setInterval(() => {
        this.opts.onTick?.();
        if (!this.lastListing || this.stopping) return;
        this.balance(this.lastListing, true).catch((err) => this.log.warn({ err }, 'could not share the DAG files out'));
      }, BALANCE_EVERY_MS);
      this.balanceTimer.unref();
    }
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      const rows = (await this.db.query<{ fileloc: string }>(sql('dag-processor/dag_file_leases_renew'), [this.opts.componentId, this.leaseSec])).rows;
      const still = new Set(rows.map((r) => r.fileloc));
      for (const f of this.held) if (!still.has(f)) this.held.delete(f);
    } catch (err) {
      this.log.warn({ err }, 'could not renew DAG file leases');
    }
  }

  /** A scan under way ends after the file it is parsing. */
  stopSoon(): void {
    this.stopping = true;
  }

  /** Stops watching and renewing and gives every lease back, so peers take the files over at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.renewTimer) clearInterval(this.renewTimer);
    if (this.balanceTimer) clearInterval(this.balanceTimer);
    if (!this.opts.componentId) return;
    await this.balancing;
    try {
      await this.db.query(sql('dag-processor/dag_file_leases_release'), [this.opts.componentId, null]);
      this.held.clear();
    } catch (err) {
      this.log.warn({ err }, 'could not give the DAG file leases back (they expire)');
    }
  }
}
