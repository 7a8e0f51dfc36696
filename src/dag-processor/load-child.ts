// Child process: import DAG files, serialize their DAGs, report to the parent. A file that
// throws, hangs or exits cannot hurt the DAG processor that forked us.
//
// With a path on the command line it loads that one file and exits. Without, it is a warm
// loader: it loads the files the parent sends one at a time (each imported afresh, by its
// content hash), so that the TypeScript loader and the SDK are started once per loader
// instead of once per file; the parent replaces it after a number of files, at the end of
// each scan, and whenever a file ends or hangs it.
import { importDagFile } from '../sdk/import-dag-file.js';
import { serializeDag } from '../sdk/serialize.js';
import type { LoadResult } from './parse-file.js';

async function load(absPath: string, fileloc: string, version?: string): Promise<LoadResult> {
  try {
    const dags = await importDagFile(absPath, version);
    return { ok: true, dags: dags.map((d) => serializeDag(d, fileloc)) };
  } catch (err) {
    const e = err as Error;
    return { ok: false, error: e?.stack && !(e.message ?? '').startsWith('DAG "') ? `${e.message}\n${e.stack.split('\n').slice(1, 4).join('\n')}` : String(e?.message ?? err) };
  }
}

const [absPath, fileloc] = process.argv.slice(2) as [string | undefined, string | undefined];
if (absPath && fileloc) {
  const result = await load(absPath, fileloc);
  process.send!(result, () => process.exit(0));
} else {
  // What a file leaves running after its import (a timer that throws, a promise nobody
  // awaits) is not a load error of the next file.
  process.on('uncaughtException', () => {});
  process.on('unhandledRejection', () => {});
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; absPath: string; fileloc: string; version: string }) => {
    void load(m.absPath, m.fileloc, m.version).then((result) => process.send!({ id: m.id, result }));
  });
  process.send!({ ready: true });
}
