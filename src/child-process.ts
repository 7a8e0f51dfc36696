// Shared settings for the child processes Keel forks (DAG loaders and task runners):
// they run TypeScript through tsx, resolved from Keel's own install so that DAG folders
// anywhere on disk work.
import { fileURLToPath } from 'node:url';

export const TSX_IMPORT = import.meta.resolve('tsx');

export function childEntry(relativeToSrc: string): string {
  return fileURLToPath(new URL(relativeToSrc, new URL('./', import.meta.url)));
}
