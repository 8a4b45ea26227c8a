/** Builds the `tsray memory` report for the embedded node. */
import type { Backend } from '../core/backend.js';
import { formatSite } from '../../store/call-site.js';
import { REF_KIND_NAMES } from '../../store/references.js';
import { summarize, type MemoryReport, type NodeMemory, type ReferenceRow, type ThreadMemory } from '../../store/report.js';

/** The embedded node is reached on loopback; the cluster gives each node its own address. */
const ADDRESS = '127.0.0.1';

export function nodeMemory(node: Backend): NodeMemory {
  const rows: ReferenceRow[] = [];
  const pid = process.pid;
  for (const o of node.objects.objects()) {
    const site = formatSite(o.site);
    const base = { address: ADDRESS, pid, objectRef: o.id, ...(o.size === undefined ? {} : { size: o.size }) };
    o.counts.forEach((n, kind) => {
      if (n <= 0) return;
      if (REF_KIND_NAMES[kind] === 'PINNED_IN_MEMORY') {
        let driver = n;
        for (const [tid, pins] of o.workerPins) {
          driver -= pins;
          rows.push({ ...base, threadId: tid, type: 'Worker', referenceType: 'PINNED_IN_MEMORY', count: pins, callSite: `(deserialize task arg) | ${site}` });
        }
        if (driver > 0) rows.push({ ...base, type: 'Driver', referenceType: 'PINNED_IN_MEMORY', count: driver, callSite: site });
        return;
      }
      rows.push({ ...base, type: 'Driver', referenceType: REF_KIND_NAMES[kind]!, count: n, callSite: site });
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
