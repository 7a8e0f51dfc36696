// Named debug points inside critical sections, so that a test can stage a crash there (as
// DBOS does): with KEEL_DEBUG_STOP_AT=<name>, a process reaching the point says so on
// stderr and waits forever, its transaction open, until the test kills it. Unset (always,
// outside tests), a point costs one comparison.
const stopAt = process.env.KEEL_DEBUG_STOP_AT;

export const DEBUG_POINT_REACHED = 'keel debug point reached:';

export async function debugPoint(name: string): Promise<void> {
  if (stopAt !== name) return;
  process.stderr.write(`${DEBUG_POINT_REACHED} ${name}\n`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
