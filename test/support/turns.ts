// Waiting for a process's loop to turn instead of sleeping: an assertion that something did
// NOT happen means nothing until the code that would have done it has run, however slow
// the machine. The count is `keel_loop_turns_total` on the process's health port.
import { waitFor } from './cluster.js';

export async function loopTurns(healthPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const turns = /^keel_loop_turns_total\{role="[^"]+"\} (\d+)$/m.exec(text)?.[1];
  if (turns === undefined) throw new Error(`the process on health port ${healthPort} reports no keel_loop_turns_total`);
  return Number(turns);
}

/** Resolves once the loop has completed `turns` whole turns that began after this call. */
export async function afterLoopTurns(healthPort: number, turns: number, timeoutMs = 30_000): Promise<void> {
  // The turn under way at the first count may have begun before the call: one more.
  const until = (await loopTurns(healthPort)) + turns + 1;
  await waitFor(`${turns} more loop turns of the process on health port ${healthPort}`, async () => (await loopTurns(healthPort)) >= until, timeoutMs, 50);
}
