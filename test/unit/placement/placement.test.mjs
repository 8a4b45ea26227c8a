// Placement decisions (DEFAULT, SPREAD, node affinity, locality, feasibility) on simulated nodes, with a seeded random.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Placer, DEFAULT_PLACEMENT, utilization } = await source('host/core/placement.ts');

function seeded(seed) {
  return () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function nodes(n, resources = { CPU: 8 }) {
  return Array.from({ length: n }, (_, i) => ({ nodeId: `n${i}`, total: { ...resources }, available: { ...resources } }));
}

/** Places `count` requests, taking each one's resources from the chosen node. */
function run(placer, view, count, req) {
  const counts = new Map(view.map((n) => [n.nodeId, 0]));
  for (let i = 0; i < count; i++) {
    const p = placer.place(view, req);
    const n = view.find((x) => x.nodeId === p.nodeId);
    for (const [k, v] of Object.entries(req.resources)) n.available[k] -= v;
    counts.set(p.nodeId, counts.get(p.nodeId) + 1);
  }
  return [...counts.values()];
}

t.test('DEFAULT: below the spread threshold work spreads at random over the top k; above it, the least used nodes win', async (t) => {
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(1) });
  const view = nodes(10);
  const first = run(placer, view, 40, { resources: { CPU: 1 }, strategy: 'DEFAULT' });
  t.ok(first.every((c) => c >= 1), `every node got work: ${first}`);
  t.ok(Math.max(...first) - Math.min(...first) <= 3, `load stays within a few tasks per node: ${first}`);
  t.ok(view.filter((n) => utilization(n) > 0.5).length <= 2, 'at most the random top-k pick took a node past the threshold');
  const more = run(placer, view, 30, { resources: { CPU: 1 }, strategy: 'DEFAULT' });
  const total = first.map((c, i) => c + more[i]);
  t.ok(Math.max(...total) - Math.min(...total) <= 2, `then they fill evenly: ${total}`);
});

t.test('DEFAULT prefers the node holding most argument bytes, when it has room', async (t) => {
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(2) });
  const view = nodes(5);
  const localityBytes = new Map([['n3', 80e6], ['n1', 10e6]]);
  t.equal(placer.place(view, { resources: { CPU: 1 }, strategy: 'DEFAULT', localityBytes }).nodeId, 'n3');
  view[3].available.CPU = 0;
  t.equal(placer.place(view, { resources: { CPU: 1 }, strategy: 'DEFAULT', localityBytes }).nodeId, 'n1', 'the next best holder when the best is full');
});

t.test('SPREAD goes round-robin over the nodes with room', async (t) => {
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(3) });
  const view = nodes(3);
  t.strictSame(run(placer, view, 9, { resources: { CPU: 1 }, strategy: 'SPREAD' }), [3, 3, 3]);
});

t.test('node affinity: hard fails without the node, soft falls back', async (t) => {
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(4) });
  const view = nodes(3);
  t.strictSame(placer.place(view, { resources: { CPU: 1 }, strategy: { nodeId: 'n2', soft: false } }), { nodeId: 'n2' });
  view[2].available.CPU = 0;
  t.strictSame(placer.place(view, { resources: { CPU: 1 }, strategy: { nodeId: 'n2', soft: false } }), { nodeId: 'n2' }, 'a busy node still takes it (it waits there)');
  t.match(placer.place(view, { resources: { CPU: 1 }, strategy: { nodeId: 'gone', soft: false } }), { error: /not alive/ });
  t.match(placer.place(view, { resources: { CPU: 99 }, strategy: { nodeId: 'n1', soft: false } }), { error: /can never hold/ });
  t.ok(['n0', 'n1', 'n2'].includes(placer.place(view, { resources: { CPU: 1 }, strategy: { nodeId: 'gone', soft: true } }).nodeId), 'soft: somewhere else');
});

t.test('feasibility: nothing can hold it -> wait; busy but feasible -> queued on a node; no resources -> a random node', async (t) => {
  const placer = new Placer({ ...DEFAULT_PLACEMENT, random: seeded(5) });
  const view = nodes(4);
  t.strictSame(placer.place(view, { resources: { GPU: 1 }, strategy: 'DEFAULT' }), { wait: 'infeasible' });
  for (const n of view) n.available.CPU = 0;
  t.ok(placer.place(view, { resources: { CPU: 1 }, strategy: 'DEFAULT' }).nodeId, 'all busy: still placed (its node queues it)');
  const seen = new Set();
  for (let i = 0; i < 40; i++) seen.add(placer.place(view, { resources: { CPU: 0 }, strategy: 'DEFAULT' }).nodeId);
  t.equal(seen.size, 4, 'zero-resource work lands on random nodes');
  const gpus = [...nodes(2), { nodeId: 'g', total: { CPU: 8, GPU: 2 }, available: { CPU: 8, GPU: 2 } }];
  t.equal(placer.place(gpus, { resources: { CPU: 1, GPU: 1 }, strategy: 'DEFAULT' }).nodeId, 'g', 'only a node with the resource is feasible');
});

t.test('DEFAULT always picks among the k least used nodes (random clusters)', async (t) => {
  const random = seeded(9);
  let bad = 0;
  for (let trial = 0; trial < 2000; trial++) {
    const n = 1 + Math.floor(random() * 60);
    const view = Array.from({ length: n }, (_, i) => ({ nodeId: `n${i}`, total: { CPU: 10 }, available: { CPU: 1 + Math.floor(random() * 9) } }));
    const cfg = { ...DEFAULT_PLACEMENT, topKAbsolute: 3, random };
    const k = Math.min(n, Math.max(Math.ceil(n * cfg.topKFraction), cfg.topKAbsolute));
    const score = (x) => { const u = utilization(x); return u < cfg.spreadThreshold ? 0 : u; };
    const kth = view.map(score).sort((a, b) => a - b)[k - 1];
    const { nodeId } = new Placer(cfg).place(view, { resources: { CPU: 1 }, strategy: 'DEFAULT' });
    const chosen = view.find((x) => x.nodeId === nodeId);
    if (!chosen || score(chosen) > kth) bad++;
  }
  t.equal(bad, 0, 'in 2,000 random clusters the chosen node always scored within the top k');
});
