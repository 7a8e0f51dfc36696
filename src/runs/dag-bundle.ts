// DAG bundles on the side that runs task code: a local cache of bundles by hash, each
// written once from the database (`<dataDir>/bundles/<hash>/`), so a worker imports the
// exact code of a run's DAG version and never reads a DAG folder of its own.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Queryable } from '../db/queryable.js';
import { sql } from '../db/sql.js';

/** sha256 of the normalized file set: the entry, then each path and its content, in path order. */
export function bundleHash(entry: string, files: Record<string, string>): string {
  const h = createHash('sha256').update(`entry\0${entry}\0`);
  for (const path of Object.keys(files).sort()) h.update(`file\0${path}\0${files[path]}\0`);
  return h.digest('hex');
}

/** Keel's own install: bundled files import 'keel' through a link to it in each bundle. */
const KEEL_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Where the deployment's npm packages are: the node_modules Keel is installed in, or Keel's
 * own. Bundled files import them through a link beside the bundles, as they would from the
 * DAG folder of a deployment that installed them.
 */
const PACKAGES = basename(dirname(resolve(KEEL_ROOT))) === 'node_modules' ? dirname(resolve(KEEL_ROOT)) : join(KEEL_ROOT, 'node_modules');

export class BundleCache {
  /** Bundles written (or being written) by this process: hash → folder. */
  private readonly folders = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** The absolute path of the bundle's entry file in the cache, written from the database first if needed. */
  async entryPath(db: Queryable, hash: string, entry: string): Promise<string> {
    let folder = this.folders.get(hash);
    if (!folder) {
      folder = this.materialize(db, hash);
      this.folders.set(hash, folder);
    }
    try {
      return join(await folder, entry);
    } catch (err) {
      this.folders.delete(hash); // the next attempt tries again
      throw err;
    }
  }

  private async materialize(db: Queryable, hash: string): Promise<string> {
    const folder = join(this.dir, hash);
    // Complete or absent: a folder appears only by the rename below.
    if (existsSync(folder)) return folder;
    const row = (await db.query<{ entry: string; files: Record<string, string> }>(sql('worker/dag_bundle_get'), [hash])).rows[0];
    if (!row) throw new Error(`DAG bundle ${hash} is not in the database`);
    if (bundleHash(row.entry, row.files) !== hash) throw new Error(`DAG bundle ${hash} as stored does not match its hash; it was changed in the database`);
    this.linkPackages();
    const tmp = join(this.dir, `.tmp-${hash}-${randomUUID()}`);
    mkdirSync(join(tmp, 'node_modules'), { recursive: true });
    symlinkSync(KEEL_ROOT, join(tmp, 'node_modules', 'keel'), 'dir');
    for (const [path, source] of Object.entries(row.files)) {
      const target = resolve(tmp, path);
      if (!target.startsWith(tmp + sep)) throw new Error(`DAG bundle ${hash} holds a path outside its folder: ${path}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, source);
    }
    try {
      renameSync(tmp, folder);
    } catch (err) {
      // Another worker on this host wrote it first: the same content by its hash.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(folder)) throw err;
    }
    return folder;
  }

  private linkPackages(): void {
    const link = join(this.dir, 'node_modules');
    if (existsSync(link)) return;
    mkdirSync(this.dir, { recursive: true });
    try {
      symlinkSync(PACKAGES, link, 'dir');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
