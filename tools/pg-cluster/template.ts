// Renders the shipped deploy/ templates: every {{name}} is replaced by its value. A name
// without a value, or a value without a use, is an error, so a template and its caller
// cannot drift apart silently. Pure.
export function renderTemplate(text: string, values: Record<string, string | number | boolean>): string {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = text.replace(/\{\{\s*([a-z0-9_]+)\s*\}\}/gi, (_, name: string) => {
    used.add(name);
    if (!(name in values)) {
      missing.add(name);
      return '';
    }
    return String(values[name]);
  });
  if (missing.size > 0) throw new Error(`template values missing: ${[...missing].join(', ')}`);
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`template has no place for: ${unused.join(', ')}`);
  return out;
}
