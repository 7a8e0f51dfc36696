// Deferrable tasks: a task that waits without holding a worker slot. Manual only.
//
//   npm run keel -- dags trigger daily_report --params '{"day": "2026-11-26"}'
//
// "settle" defers itself on a timer (10 s), then "report_ready" waits for an external
// event with the key report-ready-<day> (the run shows the task as deferred, the task page
// names the trigger and the triggerer holding it). Resume it from a second terminal:
//
//   npm run keel -- events post report-ready-2026-11-26 --payload '{"rows": 1234, "by": "ada"}'
//
// (or POST /api/v1/events with {"key": "report-ready-2026-11-26", "payload": {…}}).
// Nobody posts? The sensor times out after 30 minutes and the run fails, so an example
// run never waits forever.
import { dag, param, triggers } from 'keel';

export default dag(
  {
    id: 'daily_report',
    description: 'Wait on a timer, then on an external "report ready" event, then publish',
    schedule: null,
    tags: ['example', 'deferrable'],
    params: { day: param.string({ default: '2026-11-26', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'the report\'s day; the event key is report-ready-<day>' }) },
  },
  (d) => {
    const settle = d.task('settle', (ctx) => {
      // First attempt: give the worker slot back for 10 s. The resumed attempt (same try,
      // new attempt id) sees ctx.resumed and the timer's event.
      if (!ctx.resumed) ctx.defer(triggers.after(10), { timeoutSec: 60 });
      ctx.log.info(`settled; the timer fired at ${(ctx.triggerEvent as { firedAt?: string } | null)?.firedAt}`);
      return ctx.params.day;
    });
    const ready = d.sensor('report_ready', {
      upstream: settle,
      trigger: (ctx) => triggers.external(`report-ready-${ctx.params.day}`),
      timeoutSec: 30 * 60,
    });
    d.task('publish', { upstream: ready }, (ctx) => {
      const event = ctx.upstream.report_ready as { key: string; payload: unknown; postedAt: string };
      ctx.log.info(`publishing the report of ${ctx.params.day}: ${JSON.stringify(event.payload)} (posted ${event.postedAt})`);
      return event.payload;
    });
  },
);
