// The time zone the UI shows times in: the browser's own unless the user picked another,
// which is kept in localStorage (a setting of this browser, not of the account). Times are
// written as YYYY-MM-DD HH:mm:ss in that zone; the header names the zone.
const KEY = 'keel.timeZone';

export const browserZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

function valid(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The zone the user picked, or null: the browser's. */
export function chosenZone(): string | null {
  const chosen = localStorage.getItem(KEY);
  return chosen && valid(chosen) ? chosen : null;
}

export const timeZone = (): string => chosenZone() ?? browserZone();

/** null: back to the browser's zone. */
export function setTimeZone(zone: string | null): void {
  if (zone === null) localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, zone);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsOf(d: Date, zone: string): Record<string, string> {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    formatters.set(zone, f);
  }
  return Object.fromEntries(f.formatToParts(d).map((p) => [p.type, p.value]));
}

export type TimeStyle = 'full' | 'short' | 'clock';

/** full: 2026-01-02 10:00:00; short: 01-02 10:00 (grid columns); clock: 10:00:00 (Gantt axis). */
export function formatTime(v: string | number | Date, style: TimeStyle = 'full'): string {
  const p = partsOf(new Date(v), timeZone());
  if (style === 'short') return `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  if (style === 'clock') return `${p.hour}:${p.minute}:${p.second}`;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** The zone with its current offset, e.g. "Europe/Paris (GMT+1)". */
export function zoneLabel(zone = timeZone()): string {
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value;
  return offset ? `${zone} (${offset})` : zone;
}

export function zoneChoices(): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return [...new Set(['UTC', browserZone(), ...all])];
}
