// Child process of a triggerer that runs custom triggers' polls. User code runs here, so a
// trigger that throws, hangs or crashes ends at most this process, never the triggerer.
import { statSync } from 'node:fs';
import { importDagFile } from '../sdk/import-dag-file.js';
import { customTriggers } from '../deferral/triggers/registry.js';
import type { CustomPollRequest, CustomPollResponse } from './custom-protocol.js';

const send = (m: CustomPollResponse) => process.send!(m);
const loaded = new Map<string, number>();

async function poll(req: CustomPollRequest): Promise<unknown> {
  const mtimeMs = statSync(req.file).mtimeMs;
  if (loaded.get(req.file) !== mtimeMs) {
    await importDagFile(req.file, String(mtimeMs));
    loaded.set(req.file, mtimeMs);
  }
  const def = customTriggers().get(req.name);
  if (!def) throw new Error(`no trigger named "${req.name}" is defined by ${req.file} or the modules it imports; call defineTrigger("${req.name}", …) there`);
  const signal = AbortSignal.timeout(req.timeoutMs);
  return await Promise.race([
    Promise.resolve(def.poll(req.args, { signal })),
    new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error(`poll did not answer within ${req.timeoutMs} ms`)), { once: true })),
  ]);
}

process.on('message', (req: CustomPollRequest) => {
  poll(req).then(
    (value) => send({ id: req.id, ok: true, value: value === undefined ? null : value }),
    (err) => send({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
