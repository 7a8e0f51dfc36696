// A DAG file's bundle: the file and every local module it imports (relative or absolute
// paths, followed with esbuild's resolver, TypeScript and JSON included), content-addressed.
// Bare specifiers ('keel', npm packages, 'node:…', 'file:' URLs) stay outside: installing the
// npm packages DAG files import on every worker host is the deployment's job.
import { readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { bundleHash } from '../runs/dag-bundle.js';

export interface DagBundle {
  hash: string;
  /** Path of the DAG file inside the bundle. */
  entry: string;
  /** Path relative to the bundle root → source. */
  files: Record<string, string>;
  sizeBytes: number;
}

/** Anything that is not a path (`./x`, `../x`, `/x`) is resolved where the task runs, not bundled. */
const keepBareImportsOutside: Plugin = {
  name: 'keel-bare-imports-outside',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
  },
};

/** The local files a DAG file imports, itself included (absolute paths). */
async function localImports(absPath: string): Promise<string[]> {
  const result = await build({
    entryPoints: [absPath], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm',
    logLevel: 'silent', absWorkingDir: '/', plugins: [keepBareImportsOutside],
  });
  return Object.keys(result.metafile.inputs).map((p) => `/${p}`);
}

function commonFolder(paths: string[]): string {
  const inside = (p: string, folder: string) => p.startsWith(folder.endsWith(sep) ? folder : folder + sep);
  let root = dirname(paths[0]!);
  for (const p of paths) while (!inside(p, root)) root = dirname(root);
  return root;
}

export class BundleTooLarge extends Error {}

/** Reads the bundle of `absPath`; throws BundleTooLarge (naming the largest files) past `maxBytes`. */
export async function collectBundle(absPath: string, maxBytes: number): Promise<DagBundle> {
  const paths = await localImports(absPath);
  if (!paths.includes(absPath)) paths.push(absPath);
  const root = commonFolder(paths);
  const files: Record<string, string> = {};
  const sizes: [string, number][] = [];
  for (const p of paths) {
    const rel = relative(root, p).split(sep).join('/');
    files[rel] = readFileSync(p, 'utf8');
    sizes.push([rel, Buffer.byteLength(files[rel])]);
  }
  const sizeBytes = sizes.reduce((n, [, s]) => n + s, 0);
  if (sizeBytes > maxBytes) {
    const largest = sizes.sort((a, b) => b[1] - a[1]).slice(0, 3).map(([f, s]) => `${f} ${s} bytes`).join(', ');
    throw new BundleTooLarge(`the DAG file and the ${paths.length - 1} local module(s) it imports are ${sizeBytes} bytes, over the bundle limit of ${maxBytes} (dagBundleMaxBytes); largest: ${largest}. Keep data out of DAG code (read it at run time) or raise dagBundleMaxBytes`);
  }
  const entry = relative(root, absPath).split(sep).join('/');
  return { hash: bundleHash(entry, files), entry, files, sizeBytes };
}
