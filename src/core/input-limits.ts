// Limits every input obeys, wherever it comes from (API bodies, query strings and paths,
// CLI arguments): PostgreSQL text and jsonb cannot hold a NUL character, a
// lone UTF-16 surrogate would be rewritten to U+FFFD on its way to the database, and
// deeply nested JSON exhausts stacks further down. Checked once at the edge, so that each
// such input is a 400 (or exit code 2) naming the field instead of a database error.

/** Largest PostgreSQL integer (int4): log offsets, try numbers, list offsets and limits. */
export const MAX_INT4 = 2 ** 31 - 1;

/** Deepest nesting of objects and arrays accepted in JSON input. */
export const MAX_JSON_DEPTH = 64;

// With the u flag a surrogate pair is one code point, so only a lone surrogate matches.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** What is wrong with a string, or null. */
export function textProblem(text: string): string | null {
  if (text.includes('\0')) return 'must not contain a NUL character (\\u0000)';
  if (LONE_SURROGATE.test(text)) return 'must not contain a lone UTF-16 surrogate (invalid Unicode)';
  return null;
}

export interface InputProblem {
  /** Where, as `<root>.a.b` (`body.params.rows`), `<root>.items.3` for array items. */
  field: string;
  message: string;
}

/** The first string, key or nesting level of a JSON value that breaks the limits, or null. */
export function jsonProblem(value: unknown, root: string, maxDepth = MAX_JSON_DEPTH): InputProblem | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { field: path, message: problem };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return { field: path, message: `is nested deeper than ${maxDepth} levels` };
    for (const [key, item] of Object.entries(v)) {
      const problem = textProblem(key);
      if (problem) return { field: path, message: `has a key that ${problem}` };
      stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}
