// Imports a DAG file and returns the DAGs it exports. Runs only inside child processes
// (the DAG processor's loader and the worker's runners), never in a long-lived role.
import { pathToFileURL } from 'node:url';
import { isDag, type Dag } from './dag.js';

/** `version` busts Node's module cache, so a changed file is imported afresh. */
export async function importDagFile(absPath: string, version?: string): Promise<Dag[]> {
  const url = pathToFileURL(absPath).href + (version ? `?v=${encodeURIComponent(version)}` : '');
  const mod = (await import(url)) as Record<string, unknown>;
  const found = new Set<Dag>();
  for (const value of Object.values(mod)) {
    if (isDag(value)) found.add(value);
    else if (Array.isArray(value)) for (const v of value) if (isDag(v)) found.add(v);
  }
  return [...found];
}
