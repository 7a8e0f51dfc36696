// Loads a named statement, sql('<area>/<name>'), from src/db/queries/<area>/<name>.sql. Each
// file holds one statement and a header comment that lists its parameters ($1, $2, …) or
// says "No parameters.". The names are the generated union QueryName (`npm run gen:queries`).
import { readFileSync } from 'node:fs';
import type { QueryName } from './query-names.js';

const cache = new Map<QueryName, string>();
const QUERIES_DIR = new URL('./queries/', import.meta.url);

export function sql(name: QueryName): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.sql`, QUERIES_DIR), 'utf8');
    cache.set(name, text);
  }
  return text;
}
