// Placement benchmark on simulated nodes (in-process, no workers): decisions per second with
// 100 and 1,000 nodes, and spread evenness (max/min tasks per node) for 10,000 tasks under
// SPREAD and DEFAULT.
//
//   npx tsc -p . && node bench/scheduler.mjs
import { printTable } from './lib/table.mjs';
import { fmtInt, makeProgress, median } from './lib/stats.mjs';
import { cpus, loadavg } from 'node:os';
import { Placer, DEFAULT_PLACEMENT } from '../dist/host/core/placement.js';

const START = performance.now();
const progress = makeProgress(START);

function seeded(seed) {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function cluster(n) {
  return Array.from({ length: n }, (_, i) => ({ nodeId: `node${i}`, total: { CPU: 16, memory: 64e9 }, available: { CPU: 16, memory: 64e9 } }));
}

/**
 * Places `count` one-CPU tasks on a cluster kept about 60% busy: after each placement, while
 * more than 60% of all CPUs are taken, a task ends on a random busy node. Returns decisions/s
 * (placement only) and tasks per node.
 */
function run(n, count, strategy, seed) {
  const nodes = cluster(n);
  const byId = new Map(nodes.map((x) => [x.nodeId, x]));
  const random = seeded(seed);
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(seed + 1000) });
  const counts = new Map(nodes.map((x) => [x.nodeId, 0]));
  const req = { resources: { CPU: 1 }, strategy };
  let used = 0;
  let ms = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const p = placer.place(nodes, req);
    ms += performance.now() - t0;
    const node = byId.get(p.nodeId);
    if (node.available.CPU >= 1) { node.available.CPU--; used++; }
    counts.set(p.nodeId, counts.get(p.nodeId) + 1);
    while (used > 0.6 * 16 * n) {
      const x = nodes[Math.floor(random() * n)];
      if (x.available.CPU < 16) { x.available.CPU++; used--; }
    }
  }
  const c = [...counts.values()];
  return { rate: count / (ms / 1000), max: Math.max(...c), min: Math.min(...c) };
}

const rows = [['measurement', '100 nodes', '1,000 nodes', 'note']];
for (const strategy of ['DEFAULT', 'SPREAD']) {
  const r100 = [];
  const r1000 = [];
  for (let rep = 0; rep < 5; rep++) {
    r100.push(run(100, 20_000, strategy, rep + 1).rate);
    r1000.push(run(1000, 5_000, strategy, rep + 1).rate);
  }
  progress(`${strategy}: ${fmtInt(median(r100))} / ${fmtInt(median(r1000))} decisions/s`);
  rows.push([`decisions/s, ${strategy}`, fmtInt(median(r100)), fmtInt(median(r1000)), 'one placement = score every node, pick (median of 5)']);
}
for (const strategy of ['SPREAD', 'DEFAULT']) {
  const a = run(100, 10_000, strategy, 7);
  const b = run(1000, 10_000, strategy, 7);
  rows.push([`spread of 10,000 tasks, ${strategy}: max/min tasks per node`, `${a.max}/${a.min} = ${(a.max / Math.max(a.min, 1)).toFixed(2)}`, `${b.max}/${b.min} = ${(b.max / Math.max(b.min, 1)).toFixed(2)}`, strategy === 'SPREAD' ? 'round-robin over the nodes with room' : 'random pick among nodes under the 0.5 threshold, then the top k least used']);
}
printTable(rows);
console.log('');
console.log('Nodes are simulated (16 CPUs each); tasks end at random so the cluster stays about 60% busy; only the placement calls are timed.');
console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), Node.js ${process.version}, load average ${loadavg()[0].toFixed(2)}; run took ${((performance.now() - START) / 1000).toFixed(1)} s`);
