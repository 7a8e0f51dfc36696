// Poke mode: a sensor that keeps its worker slot and checks its trigger on an interval
// inside the runner, until it fires or the sensor times out.
import { pollTrigger } from './poll.js';
import { describeTrigger, type TriggerSpec } from './spec.js';

export interface PokeOptions {
  signal: AbortSignal;
  /** Seconds between checks; default: the trigger's own poll interval. */
  intervalSec?: number;
  timeoutSec?: number;
  log?: (message: string) => void;
}

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

/** Resolves with the trigger's event; throws when it fails, times out, or the attempt is aborted. */
export async function pokeUntilFired(spec: TriggerSpec, opts: PokeOptions): Promise<unknown> {
  const deadline = opts.timeoutSec === undefined ? Infinity : Date.now() + opts.timeoutSec * 1000;
  for (let pokes = 1; ; pokes++) {
    if (opts.signal.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('the attempt was aborted');
    const res = await pollTrigger(spec, { signal: opts.signal });
    if (res.fired) {
      if ('event' in res.envelope) return res.envelope.event;
      throw new Error('error' in res.envelope ? res.envelope.error : res.envelope.timeout);
    }
    const wait = opts.intervalSec !== undefined ? opts.intervalSec * 1000 : res.nextInMs;
    if (Date.now() + wait > deadline) throw new Error(`sensor timed out after ${opts.timeoutSec} s (${pokes} pokes) waiting for ${describeTrigger(spec)}`);
    opts.log?.(`poke ${pokes}: ${describeTrigger(spec)} not yet; next check in ${Math.round(wait / 100) / 10} s`);
    await sleep(wait, opts.signal);
  }
}
