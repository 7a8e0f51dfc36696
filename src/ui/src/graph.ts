// The DAG graph: dagre (@dagrejs/dagre) lays the tasks out left to right and routes every
// edge through the gaps between ranks, so no edge passes under a node; edges end in an
// arrowhead at the downstream task. Each node names its task and, in words, its state.
import { Graph, layout, type EdgeLabel, type GraphLabel, type NodeLabel } from '@dagrejs/dagre';
import { svg } from './dom.js';
import { stateText } from './states.js';

export interface GraphTask { taskId: string; upstream: string[] }

const H = 44;
const widthOf = (taskId: string) => Math.max(120, taskId.length * 8 + 28);

/** `link(taskId)`: where a click on the node goes (the task of the run shown), if anywhere. */
export function dagGraph(tasks: GraphTask[], states: Record<string, string>, link?: (taskId: string) => string): SVGElement {
  const g = new Graph<GraphLabel, NodeLabel & { x: number; y: number }, EdgeLabel>();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, edgesep: 12, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of tasks) g.setNode(t.taskId, { width: widthOf(t.taskId), height: H, x: 0, y: 0 });
  for (const t of tasks) for (const u of t.upstream) if (g.hasNode(u)) g.setEdge(u, t.taskId);
  layout(g);
  const { width = 0, height = 0 } = g.graph();
  const edges = g.edges().map((e) => {
    const points = g.edge(e).points ?? [];
    return svg('path', { class: 'edge', d: points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' '), 'marker-end': 'url(#arrow)', 'data-from': e.v, 'data-to': e.w });
  });
  const nodes = tasks.map((t) => {
    const n = g.node(t.taskId);
    const state = states[t.taskId] ?? 'none';
    const box = svg('g', { class: `node s-${state}`, 'data-task': t.taskId, transform: `translate(${n.x - n.width / 2},${n.y - n.height / 2})` },
      svg('rect', { class: 'box', width: n.width, height: n.height, rx: 6 }),
      svg('text', { x: 10, y: 18, class: 'task' }, t.taskId),
      svg('text', { x: 10, y: 35, class: 'node-state' }, state === 'none' ? 'no run' : stateText(state)));
    return link ? svg('a', { href: link(t.taskId) }, box) : box;
  });
  const defs = svg('defs', {},
    svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })),
    svg('pattern', { id: 'stripes-upstream_failed', width: 8, height: 8, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
      svg('rect', { width: 8, height: 8, class: 'stripe-bg' }), svg('rect', { width: 3, height: 8, class: 'stripe' })));
  return svg('svg', { class: 'graph', width: Math.ceil(width), height: Math.ceil(height), viewBox: `0 0 ${Math.ceil(width)} ${Math.ceil(height)}` }, defs, ...edges, ...nodes);
}
