// Loads a named statement from src/db/queries/<name>.sql. Each file holds one statement
// and a header comment that lists its parameters ($1, $2, …).
import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();
const QUERIES_DIR = new URL('./queries/', import.meta.url);

export function sql(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`${name}.sql`, QUERIES_DIR), 'utf8');
    cache.set(name, text);
  }
  return text;
}
