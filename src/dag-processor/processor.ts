// The DAG processor role: scan the DAGs folder, parse new, changed and stale files in
// isolated children, validate, store. A broken file is recorded as an import error and
// never stops the loop.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { validateDag } from '../core/dag-graph.js';
import type { Db } from '../db/pool.js';
import { inTransaction } from '../db/pool.js';
import { sql } from '../db/sql.js';
import type { Logger } from '../log.js';
import { parseDagFile } from './parse-file.js';
import { storeImportError, storeParsedFile } from './store.js';

export interface ProcessorOptions {
  dagsFolder: string;
  dagFileTimeoutSec: number;
  dagReparseIntervalSec: number;
}

const DAG_FILE = /\.(ts|mts|js|mjs)$/;

export function listDagFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
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
  return out.sort();
}

export interface ScanResult {
  parsed: string[];
  errors: Record<string, string>;
  deactivated: string[];
}

export class DagProcessor {
  private readonly lastParsed = new Map<string, { hash: string; at: number }>();
  /** Files whose DAG ids another file owned at their last parse: parsed again on every scan until that resolves. */
  private readonly clashed = new Set<string>();

  constructor(private readonly db: Db, private readonly opts: ProcessorOptions, private readonly log: Logger) {}

  /** One pass over the folder. */
  async scan(): Promise<ScanResult> {
    const files = listDagFiles(this.opts.dagsFolder);
    const result: ScanResult = { parsed: [], errors: {}, deactivated: [] };
    for (const fileloc of files) {
      const abs = join(this.opts.dagsFolder, fileloc);
      let content: Buffer;
      try {
        if (!statSync(abs).isFile()) continue;
        content = readFileSync(abs);
      } catch {
        continue; // vanished between listing and reading; the next scan deactivates it
      }
      const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
      const seen = this.lastParsed.get(fileloc);
      if (seen && seen.hash === hash && !this.clashed.has(fileloc) && Date.now() - seen.at < this.opts.dagReparseIntervalSec * 1000) continue;
      const error = await this.processFile(abs, fileloc, hash);
      this.lastParsed.set(fileloc, { hash, at: Date.now() });
      result.parsed.push(fileloc);
      if (error) result.errors[fileloc] = error;
    }
    const gone = await inTransaction(this.db, async (tx) => (await tx.query<{ dag_id: string }>(sql('dag_file_delete_missing'), [files])).rows);
    for (const fileloc of this.lastParsed.keys()) if (!files.includes(fileloc)) this.lastParsed.delete(fileloc);
    for (const fileloc of this.clashed) if (!files.includes(fileloc)) this.clashed.delete(fileloc);
    result.deactivated = gone.map((r) => r.dag_id);
    if (result.deactivated.length) this.log.info({ dags: result.deactivated }, 'DAG file gone: DAGs deactivated');
    return result;
  }

  private async processFile(abs: string, fileloc: string, hash: string): Promise<string | null> {
    const started = Date.now();
    this.clashed.delete(fileloc);
    const loaded = await parseDagFile(abs, fileloc, this.opts.dagFileTimeoutSec);
    let error: string | null = null;
    if (!loaded.ok) error = loaded.error;
    else {
      const problems = loaded.dags.flatMap((d) => validateDag(d).map((p) => `DAG "${d.dagId}": ${p}`));
      if (loaded.dags.length === 0) problems.push('the file exports no DAG; export the result of dag(...), e.g. `export default dag({ id: ... }, ...)`');
      const ids = loaded.dags.map((d) => d.dagId);
      for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) problems.push(`DAG id "${id}" is defined twice in this file`);
      if (problems.length) error = problems.join('\n');
      else {
        error = await inTransaction(this.db, (tx) => storeParsedFile(tx, fileloc, hash, loaded.dags));
        // The only error storing reports is a DAG id owned by another file; that file may let go of it any time.
        if (error) this.clashed.add(fileloc);
      }
    }
    if (error) {
      await inTransaction(this.db, (tx) => storeImportError(tx, fileloc, hash, error));
      this.log.error({ file: fileloc }, `import error in ${fileloc}: ${error}`);
    } else if (loaded.ok) {
      this.log.info({ file: fileloc, dags: loaded.dags.map((d) => d.dagId), ms: Date.now() - started }, 'DAG file loaded');
    }
    return error;
  }
}
