// Each tab of the dashboard, rendered from a snapshot. Every value from the
// cluster goes in as text (textContent), never as markup.
import { fmt, history, resourceBar, stateChart, timeline } from './charts.js';

let stateFilter = '';
const points = [];

export function setFilter(v) {
  stateFilter = v;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  return e;
}

function table(headers, rows, id) {
  return el('table', id ? { id } : {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c ?? ''))))));
}

const ms = (a, b) => (a !== undefined && b !== undefined ? `${(b - a).toFixed(1)} ms` : '');
const time = (t) => (t ? new Date(t).toLocaleTimeString() : '');
const short = (id) => (id ? id.slice(0, 12) : '');

function overview(s) {
  const st = s.status;
  const total = st.resources.total, used = st.resources.used;
  const clusterBars = el('div', { class: 'bars' }, ...Object.keys(total).sort().map((k) => resourceBar(k, used[k] ?? 0, total[k])));
  const nodes = st.nodes.map((n) => el('div', { class: `node ${n.state === 'ALIVE' ? '' : 'dead'}`, 'data-node': n.nodeId },
    el('h3', {}, `node ${n.nodeId} `, el('small', {}, `${n.name} · ${n.state}${n.cause ? ` (${n.cause})` : ''}`)),
    el('div', { class: 'bars' }, ...Object.keys(n.resources).sort().map((k) => resourceBar(k, n.used[k] ?? 0, n.resources[k])))));
  const running = s.tasks.byState.RUNNING ?? 0;
  const done = (s.tasks.byState.FINISHED ?? 0) + (s.tasks.byState.FAILED ?? 0);
  const prev = points.at(-1);
  points.push({ time: s.time, running, done, rate: prev ? Math.max(0, ((done - prev.done) * 1000) / Math.max(1, s.time - prev.time)) : 0 });
  if (points.length > 120) points.shift();
  return [
    el('div', { class: 'cards' },
      el('div', { class: 'card' }, el('b', { id: 'node-count' }, String(st.nodes.filter((n) => n.state === 'ALIVE').length)), ' nodes alive'),
      el('div', { class: 'card' }, el('b', { id: 'task-count' }, String(s.tasks.total)), ' tasks'),
      el('div', { class: 'card' }, el('b', {}, String(running)), ' running'),
      el('div', { class: 'card' }, el('b', {}, String(s.actors.total)), ' actors'),
      el('div', { class: 'card' }, el('b', {}, String(st.drivers)), ' drivers')),
    el('h2', {}, 'Cluster resources'), clusterBars,
    el('h2', {}, 'Tasks by state'), stateChart(s.tasks.byState),
    el('h2', {}, 'Running (blue) and finished per second (green), last two minutes'), history(points),
    el('h2', {}, 'Demands no node can hold now'),
    st.demands.length ? table(['shape', 'count'], st.demands.map((d) => [JSON.stringify(d.shape), d.count])) : el('p', { class: 'quiet' }, 'none'),
    el('h2', {}, 'Nodes'), el('div', { class: 'nodes', id: 'nodes' }, ...nodes),
    s.missing.length ? el('p', { class: 'warn' }, `Not in this view (no answer in time): ${s.missing.join(', ')}`) : null,
  ];
}

function tasks(s) {
  const states = Object.keys(s.tasks.byState).sort();
  const select = el('select', { id: 'state-filter' }, el('option', { value: '' }, 'every state'), ...states.map((x) => el('option', { value: x }, x)));
  select.value = stateFilter;
  const rows = s.tasks.latest.filter((r) => !stateFilter || r.state === stateFilter).reverse();
  return [
    el('h2', {}, 'Per function'),
    table(['function', 'total', 'by state'], s.tasks.byFunction.map((f) => [f.name, f.total, Object.entries(f.states).map(([k, v]) => `${k} ${v}`).join(', ')]), 'by-function'),
    el('h2', {}, `Latest tasks (${s.tasks.latest.length} of ${s.tasks.total}) `, select),
    table(['task', 'job', 'name', 'state', 'node', 'worker', 'started', 'took', 'error'],
      rows.map((r) => [short(r.taskId), r.jobId ?? '', r.name, r.state, short(r.nodeId), r.workerId ?? '', time(r.startedAt), ms(r.startedAt, r.endedAt), r.error ?? '']), 'task-table'),
  ];
}

function actors(s) {
  return [
    el('h2', {}, 'Per class'),
    table(['class', 'total', 'by state'], s.actors.byClass.map((c) => [c.className, c.total, Object.entries(c.states).map(([k, v]) => `${k} ${v}`).join(', ')])),
    el('h2', {}, 'Actors'),
    table(['actor', 'job', 'class', 'name', 'state', 'node', 'worker', 'restarts', 'death'],
      [...s.actors.latest].reverse().map((a) => [short(a.actorId), a.jobId ?? '', a.className, a.name ?? '', a.state, short(a.nodeId), a.workerId ?? '', a.restarts, a.death ?? '']), 'actor-table'),
  ];
}

function objects(s) {
  return [
    el('h2', {}, 'Where objects are'),
    table(['where', 'objects', 'bytes'], s.objects.byPlace.map((p) => [p.where, p.objects, fmt(p.bytes)])),
    el('h2', {}, 'Workers'),
    table(['node', 'type', 'pid', 'thread', 'heap', 'guest memory'], s.objects.workers.map((w) => [short(w.nodeId), w.type, w.pid, w.threadId ?? '', fmt(w.heapBytes), fmt(w.guestBytes)])),
    el('h2', {}, 'tsray memory'), el('pre', { id: 'memory' }, s.objects.memoryText),
  ];
}

function logs(s) {
  return [el('pre', { id: 'log-lines' }, s.logs.map((l) => `${time(l.time)} ${short(l.nodeId)} w${l.workerId} ${l.level} ${l.who}: ${l.text}`).join('\n') || '(no guest log lines yet)')];
}

function jobs(s) {
  return s.jobs.length
    ? [table(['job', 'status', 'entrypoint', 'started', 'ended', 'exit', 'tasks'], s.jobs.map((j) => [j.jobId, j.status, j.entrypoint, time(j.startTime), time(j.endTime), j.exitCode ?? '', s.tasks.latest.filter((r) => r.jobId === j.jobId).length]), 'job-table')]
    : [el('p', { class: 'quiet' }, 'No jobs. Submit one with: tsray job submit -- node driver.mjs')];
}

export function render(s) {
  const put = (id, parts) => document.getElementById(id).replaceChildren(...parts.filter((p) => p !== null));
  put('overview', overview(s));
  put('tasks', tasks(s));
  put('actors', actors(s));
  put('objects', objects(s));
  put('timeline', [el('h2', {}, 'Tasks per worker, last 60 seconds'), timeline(s.timeline.slices, s.timeline.rows, s.time)]);
  put('logs', logs(s));
  put('jobs', jobs(s));
  document.title = `tsray · ${s.status.nodes.length} nodes · ${s.tasks.total} tasks`;
}
