// The Gantt chart of a run: one row per task instance, a bar from its start to its end (to
// now while it runs) coloured by state, on a time axis in the user's zone. d3-scale makes the
// scale and picks round tick times; the bars are plain SVG (no chart library needed for
// rectangles, and this keeps the bundle small). Sized to its box, so it fits a phone.
import { scaleUtc } from 'd3-scale';
import { duration, svg } from './dom.js';
import { formatTime } from './timezone.js';

export interface GanttTask { taskId: string; state: string; startedAt: string | null; endedAt: string | null }

const ROW = 24, AXIS = 22, PAD = 8;

export function gantt(tasks: GanttTask[], boxWidth: number, now = Date.now()): SVGElement {
  const labelW = Math.min(160, Math.max(80, Math.round(boxWidth * 0.3)));
  const width = Math.max(300, boxWidth);
  const spans = tasks.map((t) => ({ t, start: t.startedAt ? Date.parse(t.startedAt) : null, end: t.endedAt ? Date.parse(t.endedAt) : t.startedAt ? now : null }));
  const started = spans.filter((s) => s.start !== null);
  const lo = Math.min(...started.map((s) => s.start!), now);
  const hi = Math.max(...started.map((s) => s.end!), lo + 1000);
  const x = scaleUtc().domain([lo, hi]).range([labelW, width - PAD]);
  const ticks = x.ticks(Math.max(2, Math.floor((width - labelW) / 90)));
  // Sub-second steps on a short run: tenths of a second, so that no two ticks read the same.
  const tenths = ticks.length > 1 && +ticks[1]! - +ticks[0]! < 1000;
  const height = AXIS + tasks.length * ROW + PAD;
  const axis = ticks.map((d) => svg('g', { class: 'tick' },
    svg('line', { x1: x(d), x2: x(d), y1: AXIS - 4, y2: height - PAD }),
    svg('text', { x: x(d), y: AXIS - 8, 'text-anchor': 'middle' }, tenths ? `${formatTime(d, 'clock')}.${Math.floor((+d % 1000) / 100)}` : formatTime(d, 'clock'))));
  const rows = spans.map(({ t, start, end }, i) => {
    const y = AXIS + i * ROW;
    const label = svg('text', { x: 4, y: y + ROW / 2 + 4, class: 'label' }, t.taskId.length > labelW / 7 ? `${t.taskId.slice(0, Math.floor(labelW / 7) - 1)}…` : t.taskId);
    if (start === null) return svg('g', { class: 'row', 'data-task': t.taskId }, label, svg('text', { x: labelW + 4, y: y + ROW / 2 + 4, class: 'muted' }, `${t.state}: not started`));
    const w = Math.max(2, x(end!) - x(start));
    return svg('g', { class: 'row', 'data-task': t.taskId }, label,
      svg('rect', { class: `bar s-${t.state}`, x: x(start), y: y + 4, width: w, height: ROW - 8, rx: 3 },
        svg('title', {}, `${t.taskId}: ${t.state}, ${duration((end! - start) / 1000)}${t.endedAt ? '' : ' so far'}`)));
  });
  return svg('svg', { class: 'gantt', width, height, viewBox: `0 0 ${width} ${height}` }, ...axis, ...rows);
}
