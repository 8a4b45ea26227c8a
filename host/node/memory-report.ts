/** Builds the `tsray memory` report for the embedded node. */
import type { Backend } from '../core/backend.js';
import { formatSite } from '../../store/call-site.js';
import { REF_KIND_NAMES, type ReferenceType } from '../../store/references.js';
import { summarize, type MemoryReport, type NodeMemory, type ReferenceRow, type ThreadMemory } from '../../store/report.js';

/** The embedded node is reached on loopback; the cluster gives each node its own address. */
const ADDRESS = '127.0.0.1';

export function nodeMemory(node: Backend): NodeMemory {
  const rows: ReferenceRow[] = [];
  const pid = process.pid;
  const guests = node.guestRefs?.();
  for (const o of node.objects.objects()) {
    const site = formatSite(o.site);
    const base = { address: ADDRESS, pid, objectRef: o.id, ...(o.size === undefined ? {} : { size: o.size }) };
    /** `n` references of `kind`: those in `byWorker` are worker rows, the rest the driver's. */
    const split = (kind: ReferenceType, n: number, byWorker: Iterable<[number, number]>, how: string): void => {
      let driver = n;
      for (const [tid, count] of byWorker) {
        driver -= count;
        rows.push({ ...base, threadId: tid, type: 'Worker', referenceType: kind, count, callSite: `${how} | ${site}` });
      }
      if (driver > 0) rows.push({ ...base, type: 'Driver', referenceType: kind, count: driver, callSite: site });
    };
    o.counts.forEach((n, k) => {
      if (n <= 0) return;
      const kind = REF_KIND_NAMES[k]!;
      if (kind === 'PINNED_IN_MEMORY') split(kind, n, o.workerPins, '(deserialize task arg)');
      // Refs a guest made or got (put, submitted tasks' results) are its worker's, as in Ray's report.
      else if (kind === 'LOCAL_REFERENCE') split(kind, n, guests?.get(o.id) ?? [], '(guest)');
      else rows.push({ ...base, type: 'Driver', referenceType: kind, count: n, callSite: site });
    });
  }
  const store = node.objects.stats();
  const mem = process.memoryUsage();
  const threads: ThreadMemory[] = [{ type: 'Driver', pid, heapBytes: mem.heapUsed, guestBytes: 0 }];
  for (const w of node.local?.workers() ?? []) threads.push({ type: 'Worker', pid, threadId: w.threadId, ...w.memoryUse() });
  return {
    address: ADDRESS,
    nodeId: node.nodeId,
    summary: summarize(rows),
    references: rows,
    store,
    threads,
    rssMinusShared: Math.max(0, mem.rss - store.committedBytes),
  };
}

export function memoryReport(node: Backend): MemoryReport {
  return { time: new Date().toISOString(), nodes: [nodeMemory(node)] };
}
