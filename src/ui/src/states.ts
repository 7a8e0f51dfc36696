// Task states and how the UI tells them apart: each has its own colour (Airflow's state
// palette), and the two that colour-blind readers confuse most — failed and upstream_failed,
// red and orange — also differ in pattern: failed is solid with a cross, upstream_failed
// striped (style.css). The legend (views.ts) shows the same swatches the grid, graph and Gantt use.
export const TASK_STATES = ['pending', 'scheduled', 'queued', 'running', 'deferred', 'up_for_retry', 'success', 'failed', 'upstream_failed', 'skipped', 'removed'] as const;

/** A marker beside the state name where colour alone would not tell states apart. */
export const STATE_MARK: Record<string, string> = { failed: '✕', upstream_failed: '▲', up_for_retry: '↻', skipped: '»', removed: '–' };

export const stateText = (state: string) => (STATE_MARK[state] ? `${STATE_MARK[state]} ${state}` : state);
