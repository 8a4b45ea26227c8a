/** Builds the `tsray memory` report of one process's store: an embedded node, a cluster node, or a cluster driver. */
import type { Backend } from '../core/backend.js';
import { formatSite } from '../../store/call-site.js';
import { REF_KIND_NAMES, type ReferenceType } from '../../store/references.js';
import { summarize, type MemoryIdentity, type MemoryReport, type NodeMemory, type ReferenceRow, type ThreadMemory } from '../../store/report.js';


export type { MemoryIdentity };

/** The embedded node, reached on loopback, inside a driver program. */
export const EMBEDDED: MemoryIdentity = { address: '127.0.0.1', holder: 'Driver' };

export function nodeMemory(node: Backend, id: MemoryIdentity = EMBEDDED): NodeMemory {
  const ADDRESS = id.address;
  const holder = id.holder;
  const rows: ReferenceRow[] = [];
  const pid = process.pid;
  const guests = node.guestRefs?.();
  for (const o of node.objects.objects()) {
    const site = formatSite(o.site);
    const base = { address: ADDRESS, pid, objectRef: o.id, where: o.where, ...(o.size === undefined ? {} : { size: o.size }) };
    /** `n` references of `kind`: those in `byWorker` are worker rows, the rest the driver's. */
    const split = (kind: ReferenceType, n: number, byWorker: Iterable<[number, number]>, how: string): void => {
      let driver = n;
      for (const [tid, count] of byWorker) {
        driver -= count;
        rows.push({ ...base, threadId: tid, type: 'Worker', referenceType: kind, count, callSite: `${how} | ${site}` });
      }
      if (driver > 0) rows.push({ ...base, type: holder, referenceType: kind, count: driver, callSite: site });
    };
    o.counts.forEach((n, k) => {
      if (n <= 0) return;
      const kind = REF_KIND_NAMES[k]!;
      if (kind === 'PINNED_IN_MEMORY') split(kind, n, o.workerPins, '(deserialize task arg)');
      // Refs a guest made or got (put, submitted tasks' results) are its worker's, as in Ray's report.
      else if (kind === 'LOCAL_REFERENCE') split(kind, n, guests?.get(o.id) ?? [], '(guest)');
      else rows.push({ ...base, type: holder, referenceType: kind, count: n, callSite: site });
    });
  }
  const store = node.objects.stats();
  const mem = process.memoryUsage();
  const threads: ThreadMemory[] = [{ type: holder, pid, heapBytes: mem.heapUsed, guestBytes: 0 }];
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

export function memoryReport(node: Backend, id: MemoryIdentity = EMBEDDED): MemoryReport {
  return { time: new Date().toISOString(), nodes: [nodeMemory(node, id)] };
}
