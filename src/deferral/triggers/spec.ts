// What a deferred task waits for, as plain JSON stored in the trigger row, and what a
// trigger's firing hands to the resumed attempt. Pure: validated with zod so a bad trigger
// fails the deferring attempt with a message naming the field, never a triggerer.
import { z } from 'zod';

const pollSec = z.number().positive().max(86_400).optional();

export const TRIGGER_SPEC = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('time'), at: z.string().datetime({ offset: true }) }).strict(),
  z.object({ kind: z.literal('file'), path: z.string().startsWith('/', 'must be an absolute path'), pollSec }).strict(),
  z.object({
    kind: z.literal('http'),
    url: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http(s) URL'),
    method: z.enum(['GET', 'HEAD', 'POST']).optional(),
    /** Statuses that fire the trigger (default [200]). */
    expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    /** The response body must contain this text. */
    bodyContains: z.string().min(1).optional(),
    requestTimeoutSec: z.number().positive().max(300).optional(),
    pollSec,
  }).strict(),
  z.object({
    kind: z.literal('external'),
    key: z.string().min(1).max(400),
    /** Only events posted at or after this instant count (default: when the task's DAG run was created). */
    since: z.string().datetime({ offset: true }).optional(),
  }).strict(),
  z.object({
    kind: z.literal('dag-state'),
    dagId: z.string().min(1),
    /** Which run: by run id, or by logical date (the usual "same logical date" cross-DAG wait). */
    runId: z.string().min(1).optional(),
    logicalDate: z.string().datetime({ offset: true }).optional(),
    /** A task of that run; without it, the run's own state counts. */
    taskId: z.string().min(1).optional(),
    /** States that fire the trigger (default ['success']). */
    states: z.array(z.string().min(1)).min(1).optional(),
    /** States that fail the waiting task (default: failed, and upstream_failed for a task). */
    failedStates: z.array(z.string().min(1)).optional(),
    pollSec,
  }).strict().refine((s) => (s.runId === undefined) !== (s.logicalDate === undefined), 'give exactly one of runId and logicalDate'),
  z.object({
    kind: z.literal('custom'),
    /** Name given to defineTrigger() in a module the DAG file imports. */
    name: z.string().min(1),
    args: z.unknown(),
    pollSec,
  }).strict(),
]);

export type TriggerSpec = z.infer<typeof TRIGGER_SPEC>;
export type TriggerKind = TriggerSpec['kind'];

/** Why a deferral is resumed: the trigger's event, its timeout, or the trigger's own failure. */
export type ResumeEnvelope = { event: unknown } | { timeout: string } | { error: string };

/** Checks a trigger spec; the error names the field and what is wrong with it. */
export function parseTriggerSpec(value: unknown): TriggerSpec {
  const res = TRIGGER_SPEC.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const field = issue.path.length ? issue.path.join('.') : 'trigger';
  throw new TypeError(`invalid trigger: ${field}: ${issue.message}`);
}

/** Default seconds between two checks of a polling trigger. */
export const DEFAULT_POLL_SEC: Record<TriggerKind, number> = {
  time: 1, file: 2, http: 5, external: 1, 'dag-state': 2, custom: 5,
};

/** Kinds a poke-mode sensor can check inside its runner (the others need the database). */
export const LOCAL_TRIGGER_KINDS: readonly TriggerKind[] = ['time', 'file', 'http', 'custom'];

/** A short human description for logs and the UI. */
export function describeTrigger(spec: TriggerSpec): string {
  switch (spec.kind) {
    case 'time': return `time ${spec.at}`;
    case 'file': return `file ${spec.path}`;
    case 'http': return `http ${spec.method ?? 'GET'} ${spec.url}`;
    case 'external': return `external event "${spec.key}"`;
    case 'dag-state': return `DAG ${spec.dagId}${spec.taskId ? ` task ${spec.taskId}` : ''} (${spec.runId ?? spec.logicalDate})`;
    case 'custom': return `custom trigger "${spec.name}"`;
  }
}
