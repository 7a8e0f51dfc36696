// Temporary DAG folders for tests that write, edit and delete DAG files. Files in a
// folder outside the repository cannot import 'keel' by name, so they import the SDK by
// its absolute file URL: write `import { dag, param } from SDK;` via dagSource().
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const SDK_URL = new URL('../../src/sdk/index.ts', import.meta.url).href;

/** A DAG file's text: the SDK import line, then `body`. */
export function dagSource(body: string): string {
  return `import { dag, param } from ${JSON.stringify(SDK_URL)};\nvoid param;\n${body}\n`;
}

export interface TempDags {
  dir: string;
  write(name: string, text: string): void;
  remove(name: string): void;
  cleanup(): void;
}

export function tempDags(prefix = 'keel-dags-'): TempDags {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    // Write then rename, as editors and deploy tools do: a watcher never sees a half-written
    // file (dot files are not DAG files, so the temporary one is ignored).
    write: (name, text) => {
      mkdirSync(join(dir, dirname(name)), { recursive: true });
      const tmp = join(dir, dirname(name), `.${basename(name)}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, name));
    },
    remove: (name) => unlinkSync(join(dir, name)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
