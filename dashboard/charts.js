// Pictures for the dashboard, as SVG built node by node (no markup strings,
// so no text from the cluster is ever parsed as HTML).
const NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

/** Colours of task and actor states. */
export const STATE_COLOURS = {
  FINISHED: '#2e9d57', RUNNING: '#2f6fd6', FAILED: '#d64541', PENDING_ARGS_AVAIL: '#c9a227', PENDING_NODE_ASSIGNMENT: '#e08b2c',
  ALIVE: '#2e9d57', DEAD: '#8a8f98', RESTARTING: '#e08b2c', PENDING_CREATION: '#c9a227',
};

/** A bar of `used` out of `total`, labelled. */
export function resourceBar(name, used, total) {
  const frac = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
  const wrap = document.createElement('div');
  wrap.className = 'bar';
  const label = document.createElement('span');
  label.textContent = `${name} ${fmt(used)} / ${fmt(total)}`;
  const s = svg('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none', role: 'img', 'aria-label': label.textContent },
    svg('rect', { x: 0, y: 0, width: 100, height: 8, class: 'track' }),
    svg('rect', { x: 0, y: 0, width: (frac * 100).toFixed(2), height: 8, class: frac > 0.9 ? 'fill hot' : 'fill' }));
  wrap.append(label, s);
  return wrap;
}

/** One stacked bar of counts by state, with a legend. */
export function stateChart(counts) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const wrap = document.createElement('div');
  wrap.className = 'state-chart';
  const s = svg('svg', { viewBox: '0 0 100 10', preserveAspectRatio: 'none', role: 'img', 'aria-label': 'tasks by state' });
  let x = 0;
  for (const [state, n] of Object.entries(counts)) {
    const w = total ? (n / total) * 100 : 0;
    s.append(svg('rect', { x: x.toFixed(3), y: 0, width: w.toFixed(3), height: 10, fill: STATE_COLOURS[state] ?? '#999' }, svg('title', {}, `${state}: ${n}`)));
    x += w;
  }
  const legend = document.createElement('div');
  legend.className = 'legend';
  for (const [state, n] of Object.entries(counts)) {
    const item = document.createElement('span');
    const dot = document.createElement('i');
    dot.style.background = STATE_COLOURS[state] ?? '#999';
    item.append(dot, `${state} ${n}`);
    legend.append(item);
  }
  wrap.append(s, legend);
  return wrap;
}

/** Running and finished tasks over the last snapshots, as two lines. */
export function history(points) {
  const w = 300, h = 60;
  const max = Math.max(1, ...points.map((p) => Math.max(p.running, p.rate)));
  const line = (key, cls) => svg('polyline', {
    class: cls, fill: 'none',
    points: points.map((p, i) => `${((i / Math.max(1, points.length - 1)) * w).toFixed(1)},${(h - (p[key] / max) * (h - 4) - 2).toFixed(1)}`).join(' '),
  });
  return svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'history', role: 'img', 'aria-label': 'running tasks and tasks finished per second' },
    line('running', 'running'), line('rate', 'rate'));
}

/** Task slices per worker over the window, newest at the right. */
export function timeline(slices, rows, now) {
  const names = new Map();
  for (const r of rows) names.set(r.name === 'thread_name' ? `${r.pid}:${r.tid}` : `${r.pid}`, r.args?.name ?? '');
  const lanes = [...new Set(slices.map((e) => `${e.pid}:${e.tid}`))].sort();
  const laneH = 18, labelW = 160, w = 900;
  const t1 = now * 1000, t0 = t1 - 60_000_000;
  const x = (t) => labelW + ((Math.max(t0, Math.min(t1, t)) - t0) / (t1 - t0)) * (w - labelW);
  const s = svg('svg', { viewBox: `0 0 ${w} ${Math.max(1, lanes.length) * laneH + 16}`, class: 'timeline', role: 'img', 'aria-label': 'timeline' });
  lanes.forEach((lane, i) => {
    const [pid] = lane.split(':');
    s.append(svg('text', { x: 2, y: i * laneH + 13, class: 'lane' }, `${(names.get(pid) ?? '').split(' ')[1] ?? pid} ${names.get(lane) ?? lane}`));
  });
  for (const e of slices) {
    const i = lanes.indexOf(`${e.pid}:${e.tid}`);
    const a = x(e.ts), b = x(e.ts + e.dur);
    s.append(svg('rect', { x: a.toFixed(1), y: i * laneH + 2, width: Math.max(0.8, b - a).toFixed(1), height: laneH - 4, fill: STATE_COLOURS[e.args?.state] ?? '#2f6fd6' },
      svg('title', {}, `${e.name} ${(e.dur / 1000).toFixed(2)} ms ${e.args?.state ?? ''}`)));
  }
  s.append(svg('text', { x: labelW, y: lanes.length * laneH + 14, class: 'axis' }, '60 s ago'), svg('text', { x: w - 30, y: lanes.length * laneH + 14, class: 'axis' }, 'now'));
  return s;
}

export function fmt(n) {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (Math.abs(n) >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
