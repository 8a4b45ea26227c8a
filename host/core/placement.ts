/**
 * Where a task or actor goes, as Ray decides it (a data structure behind a
 * small interface: the head feeds it its node table; the benchmark feeds it
 * simulated nodes). Randomness is injected, so tests are deterministic.
 *
 * - DEFAULT: among nodes that can hold the request now, prefer the one
 *   holding most of its argument bytes; otherwise score each node by its
 *   utilization (0 below the spread threshold, else the utilization) and
 *   pick at random among the k lowest, k = max(nodes x topKFraction,
 *   topKAbsolute). Requests of no resources go to a random live node.
 * - SPREAD: round-robin over the nodes that can hold the request now.
 * - Node affinity `{ nodeId, soft }`: that node; if it is gone or can never
 *   hold the request, soft falls back to DEFAULT and hard fails.
 * With no node able to hold the request now, a feasible node is chosen
 * anyway (its own scheduler queues the work); with none feasible, it waits.
 */
import { fits, isEmpty, type ResourceSet } from './resources.js';

export type SchedulingStrategy = 'DEFAULT' | 'SPREAD' | { nodeId: string; soft: boolean };

export interface NodeView {
  nodeId: string;
  total: ResourceSet;
  /** What is not yet promised to work the head sent there. */
  available: ResourceSet;
}

export interface PlacementRequest {
  resources: ResourceSet;
  strategy: SchedulingStrategy;
  /** Bytes of the request's arguments each node already holds. */
  localityBytes?: ReadonlyMap<string, number>;
}

export type Placement =
  | { nodeId: string }
  | { wait: 'infeasible' }
  | { error: string };

export interface PlacementConfig {
  /** Utilization below which a node scores 0 (Ray: RAY_scheduler_spread_threshold, 0.5). */
  spreadThreshold: number;
  /** Fraction of the nodes in the random top-k pick (Ray: 0.2). */
  topKFraction: number;
  /** Lower bound of k (Ray: RAY_scheduler_top_k_absolute, 1). */
  topKAbsolute: number;
  /** A number in [0, 1). */
  random: () => number;
}

export const DEFAULT_PLACEMENT: Omit<PlacementConfig, 'random'> = { spreadThreshold: 0.5, topKFraction: 0.2, topKAbsolute: 1 };


/** The utilization of the most used resource the node has (0..1). */
export function utilization(n: NodeView): number {
  let u = 0;
  for (const k in n.total) {
    const t = n.total[k]!;
    if (t > 0) u = Math.max(u, (t - (n.available[k] ?? 0)) / t);
  }
  return u;
}

/** The j-th smallest score (0-based) by quickselect; reorders `xs`. */
function nth(xs: { n: NodeView; score: number }[], j: number): NodeView {
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1]!.score;
    let i = lo;
    let k = hi;
    while (i <= k) {
      while (xs[i]!.score < pivot) i++;
      while (xs[k]!.score > pivot) k--;
      if (i <= k) { const t = xs[i]!; xs[i] = xs[k]!; xs[k] = t; i++; k--; }
    }
    if (j <= k) hi = k; else if (j >= i) lo = i; else break;
  }
  return xs[j]!.n;
}

export class Placer {
  private cursor = 0;

  constructor(private readonly cfg: PlacementConfig) {}

  place(nodes: readonly NodeView[], req: PlacementRequest): Placement {
    const s = req.strategy;
    if (typeof s === 'object') {
      const target = nodes.find((n) => n.nodeId === s.nodeId);
      if (target && fits(target.total, req.resources)) return { nodeId: target.nodeId };
      if (!s.soft) return { error: target ? `node ${s.nodeId} can never hold ${JSON.stringify(req.resources)}` : `node ${s.nodeId} is not alive in this cluster` };
      return this.place(nodes, { ...req, strategy: 'DEFAULT' });
    }
    // One pass: feasible nodes, and those with room now; most placements touch nothing else.
    const feasible: NodeView[] = [];
    const available: NodeView[] = [];
    for (const n of nodes) {
      if (!fits(n.total, req.resources)) continue;
      feasible.push(n);
      if (fits(n.available, req.resources)) available.push(n);
    }
    if (feasible.length === 0) return { wait: 'infeasible' };
    if (isEmpty(req.resources)) return { nodeId: feasible[Math.floor(this.cfg.random() * feasible.length)]!.nodeId };
    const pool = available.length > 0 ? available : feasible;
    if (s === 'SPREAD') {
      // Round-robin in node order, starting after the last node chosen.
      const n = pool[this.cursor++ % pool.length]!;
      return { nodeId: n.nodeId };
    }
    if (req.localityBytes && available.length > 0) {
      let best: NodeView | undefined;
      let bytes = 0;
      for (const n of available) {
        const b = req.localityBytes.get(n.nodeId) ?? 0;
        if (b > bytes) { best = n; bytes = b; }
      }
      if (best) return { nodeId: best.nodeId };
    }
    const k = Math.min(pool.length, Math.max(Math.ceil(nodes.length * this.cfg.topKFraction), this.cfg.topKAbsolute));
    const idle: NodeView[] = [];
    const busy: { n: NodeView; score: number }[] = [];
    for (const n of pool) {
      const u = utilization(n);
      if (u < this.cfg.spreadThreshold) idle.push(n); else busy.push({ n, score: u });
    }
    // Nodes under the threshold all score 0: with at least k of them, the top k are a random k of
    // them, and a random pick among those is a uniform pick among all of them.
    if (idle.length >= k) return { nodeId: idle[Math.floor(this.cfg.random() * idle.length)]!.nodeId };
    // A random one of the top k: an idle node, or the j-th least used busy one (found without sorting them all).
    const r = Math.floor(this.cfg.random() * k);
    if (r < idle.length) return { nodeId: idle[r]!.nodeId };
    return { nodeId: nth(busy, r - idle.length).nodeId };
  }
}

/** Places on a cluster of one node: every choice is that node, so randomness never matters. */
const ONE_NODE = new Placer({ ...DEFAULT_PLACEMENT, random: () => 0 });

/**
 * The embedded node as the Placer sees it, a cluster of one: why work with
 * node affinity `strategy` cannot run there (the Placer's own reason: hard
 * affinity to another node, or to this one when it can never hold
 * `resources`), or undefined. Other strategies on one node always mean it.
 */
export function oneNodeMiss(strategy: SchedulingStrategy | undefined, resources: ResourceSet, here: () => NodeView): string | undefined {
  if (strategy === undefined || typeof strategy !== 'object') return undefined;
  const p = ONE_NODE.place([here()], { resources, strategy });
  return 'error' in p ? p.error : undefined;
}
