// Child process: import one DAG file, serialize its DAGs, report to the parent, exit.
// A file that throws, hangs or exits cannot hurt the DAG processor that forked us.
import { importDagFile } from './import-dag-file.js';
import { serializeDag } from '../sdk/serialize.js';
import type { LoadResult } from './parse-file.js';

const [absPath, fileloc] = process.argv.slice(2) as [string, string];

async function main(): Promise<LoadResult> {
  try {
    const dags = await importDagFile(absPath);
    return { ok: true, dags: dags.map((d) => serializeDag(d, fileloc)) };
  } catch (err) {
    const e = err as Error;
    return { ok: false, error: e?.stack && !(e.message ?? '').startsWith('DAG "') ? `${e.message}\n${e.stack.split('\n').slice(1, 4).join('\n')}` : String(e?.message ?? err) };
  }
}

const result = await main();
process.send!(result, () => process.exit(0));
