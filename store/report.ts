/**
 * `tsray memory`: the report of object references and memory use, in Ray's
 * `ray memory` layout. `MemoryReport` is plain data (it travels to the CLI
 * as JSON); `formatMemory` turns it into text.
 */
import { REF_KIND_NAMES, type ReferenceType } from './references.js';
import type { StoreStats } from './stats.js';
import { textTable } from '../host/util/text-table.js';
import { safeLine } from '../host/util/safe-line.js';

/** One reference to one object. */
export interface ReferenceRow {
  address: string;
  pid: number;
  /** The worker thread holding it; undefined for the driver's main thread. */
  threadId?: number;
  /** `Node`: a cluster node's own process, holding objects for work from elsewhere. */
  type: 'Driver' | 'Worker' | 'Node';
  objectRef: string;
  /** Bytes; undefined while the object is pending. */
  size?: number;
  /** Where its bytes are in this process's store (`inline` and `memory` count as memory used). */
  where?: 'inline' | 'memory' | 'disk' | 'memory+disk' | 'remote' | 'none';
  referenceType: ReferenceType;
  /** How many references of this kind the holder has. */
  count: number;
  callSite: string;
}

export interface MemorySummary {
  memUsedByObjects: number;
  localReferences: number;
  pinnedCount: number;
  pendingTasks: number;
  capturedInObjects: number;
  actorHandles: number;
}

/** Memory outside the object store: each thread's JS heap and guest linear memory. */
export interface ThreadMemory {
  type: 'Driver' | 'Worker' | 'Node';
  pid: number;
  threadId?: number;
  heapBytes: number;
  guestBytes: number;
}

export interface NodeMemory {
  address: string;
  nodeId: string;
  summary: MemorySummary;
  references: ReferenceRow[];
  store: StoreStats;
  threads: ThreadMemory[];
  /** The process's resident set minus the shared store memory it maps (Ray's RSS - SHR). */
  rssMinusShared: number;
}

/** Who a report is from: the address other machines reach it at, and what its main thread is. */
export interface MemoryIdentity {
  address: string;
  /** `Driver`: a program's own refs (embedded node, cluster driver); `Node`: a cluster node holding objects for work from elsewhere. */
  holder: 'Driver' | 'Node';
}

export interface MemoryReport {
  /** ISO time the report was taken. */
  time: string;
  nodes: NodeMemory[];
}

export type GroupBy = 'NODE_ADDRESS' | 'STACK_TRACE';
export type SortBy = 'OBJECT_SIZE' | 'REFERENCE_TYPE' | 'PID';
export type Units = 'B' | 'KB' | 'MB' | 'GB';

export interface FormatOptions {
  groupBy?: GroupBy;
  sortBy?: SortBy;
  units?: Units;
  statsOnly?: boolean;
  /** At most this many reference rows per group (Ray's `--num-entries`). */
  numEntries?: number;
  /** Rows as plain space-separated fields, not aligned columns (Ray's `--no-format`). */
  noFormat?: boolean;
}

export const GROUP_BY: readonly GroupBy[] = ['NODE_ADDRESS', 'STACK_TRACE'];
export const SORT_BY: readonly SortBy[] = ['OBJECT_SIZE', 'REFERENCE_TYPE', 'PID'];
export const UNITS: readonly Units[] = ['B', 'KB', 'MB', 'GB'];

const UNIT_BYTES: Record<Units, number> = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 };
const UNIT_NAME: Record<Units, string> = { B: 'B', KB: 'KiB', MB: 'MiB', GB: 'GiB' };

function amount(bytes: number, units: Units): string {
  const v = bytes / UNIT_BYTES[units];
  if (v > 0 && v < 0.01) return `${bytes} B`;
  const digits = units === 'B' ? 0 : v >= 100 || v === 0 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${UNIT_NAME[units]}`;
}


function sortRows(rows: ReferenceRow[], by: SortBy): ReferenceRow[] {
  const cmp: Record<SortBy, (a: ReferenceRow, b: ReferenceRow) => number> = {
    // Ascending, as Ray sorts: objects of unknown size (pending) first.
    OBJECT_SIZE: (a, b) => (a.size ?? -1) - (b.size ?? -1),
    REFERENCE_TYPE: (a, b) => REF_KIND_NAMES.indexOf(a.referenceType) - REF_KIND_NAMES.indexOf(b.referenceType),
    PID: (a, b) => a.pid - b.pid || (a.threadId ?? 0) - (b.threadId ?? 0),
  };
  return [...rows].sort(cmp[by]);
}

function who(r: { pid: number; threadId?: number }): string {
  return r.threadId === undefined ? String(r.pid) : `${r.pid}:${r.threadId}`;
}

function referenceTable(rows: ReferenceRow[], units: Units, opts: FormatOptions): string {
  const head = ['IP Address', 'PID', 'Type', 'Object Ref', 'Size', 'Reference Type', 'Call Site'];
  const shown = opts.numEntries !== undefined ? rows.slice(0, opts.numEntries) : rows;
  const out = textTable([head, ...shown.map((r) => [
    r.address, who(r), r.type, r.objectRef, r.size === undefined ? '?' : amount(r.size, units),
    r.count > 1 ? `${r.referenceType} x${r.count}` : r.referenceType, r.callSite,
  ])], opts.noFormat);
  return shown.length < rows.length ? `${out}\n(${rows.length - shown.length} more not shown: --num-entries ${opts.numEntries})` : out;
}

function summaryTable(s: MemorySummary, units: Units): string {
  return textTable([
    ['Mem Used by Objects', 'Local References', 'Pinned Count', 'Pending Tasks', 'Captured in Objects', 'Actor Handles'],
    [amount(s.memUsedByObjects, units), String(s.localReferences), String(s.pinnedCount), String(s.pendingTasks), String(s.capturedInObjects), String(s.actorHandles)],
  ]);
}

function memoryTable(n: NodeMemory, units: Units): string {
  const st = n.store;
  const lines = [
    `Object store memory (shared): ${amount(st.usedBytes, units)} in ${st.objectsInMemory} sealed object${st.objectsInMemory === 1 ? '' : 's'}, `
      + `${amount(st.committedBytes, units)} committed of ${amount(st.capacity, units)} in ${st.arenas} arena${st.arenas === 1 ? '' : 's'}; `
      + `${amount(st.inlineBytes, units)} of small objects inline; largest free block ${amount(st.largestFreeBlock, units)}`,
    `Driver process RSS minus shared store memory: ${amount(n.rssMinusShared, units)}`,
  ];
  const rows = [['Thread', 'Type', 'JS Heap', 'Guest Memory']];
  for (const t of n.threads) rows.push([who(t), t.type, amount(t.heapBytes, units), amount(t.guestBytes, units)]);
  return `${lines.join('\n')}\n${textTable(rows)}`;
}

function aggregate(report: MemoryReport, units: Units): string {
  let used = 0;
  let cap = 0;
  let objects = 0;
  const spill = { spilledBytes: 0, spilledObjects: 0, restoredBytes: 0, restoredObjects: 0, spillMs: 0, restoreMs: 0, bytesOnDisk: 0 };
  for (const n of report.nodes) {
    used += n.store.usedBytes + n.store.inlineBytes;
    cap += n.store.capacity;
    objects += n.store.objects;
    for (const k of Object.keys(spill) as (keyof typeof spill)[]) spill[k] += n.store.spill[k];
  }
  const rate = (b: number, ms: number): string => (ms > 0 ? `, avg ${(b / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s` : '');
  const lines = [`Object store memory usage ${amount(used, units)}, ${objects} object${objects === 1 ? '' : 's'}, ${cap > 0 ? ((100 * used) / cap).toFixed(1) : '0.0'}% full`];
  if (spill.spilledObjects > 0) lines.push(`Spilled ${amount(spill.spilledBytes, units)}, ${spill.spilledObjects} objects${rate(spill.spilledBytes, spill.spillMs)}`);
  if (spill.restoredObjects > 0) lines.push(`Restored ${amount(spill.restoredBytes, units)}, ${spill.restoredObjects} objects${rate(spill.restoredBytes, spill.restoreMs)}`);
  if (spill.bytesOnDisk > 0) lines.push(`Spilled bytes on disk ${amount(spill.bytesOnDisk, units)}`);
  return lines.join('\n');
}

/** The report as `tsray memory` prints it. */
export function formatMemory(report: MemoryReport, opts: FormatOptions = {}): string {
  const groupBy = opts.groupBy ?? 'NODE_ADDRESS';
  const sortBy = opts.sortBy ?? 'OBJECT_SIZE';
  const units = opts.units ?? 'MB';
  const out: string[] = [`======== Object references status: ${report.time.replace('T', ' ').replace('Z', '')} ========`];
  if (!opts.statsOnly) {
    out.push(`Grouping by ${groupBy === 'NODE_ADDRESS' ? 'node address' : 'stack trace'}...        Sorting by ${sortBy === 'OBJECT_SIZE' ? 'object size' : sortBy === 'PID' ? 'pid' : 'reference type'}...`, '');
    if (groupBy === 'NODE_ADDRESS') {
      for (const n of report.nodes) {
        out.push('', `--- Summary for node address: ${safeLine(n.address, 256)} (node ${safeLine(n.nodeId, 64)}) ---`, summaryTable(n.summary, units), '');
        out.push(`--- Object references for node address: ${safeLine(n.address, 256)} (node ${safeLine(n.nodeId, 64)}) ---`);
        out.push(n.references.length > 0 ? referenceTable(sortRows(n.references, sortBy), units, opts) : '(no object references)');
      }
    } else {
      const groups = new Map<string, ReferenceRow[]>();
      for (const n of report.nodes) for (const r of n.references) {
        const key = r.callSite;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      for (const [site, rows] of groups) {
        out.push('', `--- Summary for call site: ${safeLine(site)} ---`, summaryTable(summarize(rows), units), '');
        out.push(`--- Object references for call site: ${safeLine(site)} ---`, referenceTable(sortRows(rows, sortBy), units, opts));
      }
    }
  }
  for (const n of report.nodes) out.push('', `--- Memory for node address: ${safeLine(n.address, 256)} (node ${safeLine(n.nodeId, 64)}) ---`, memoryTable(n, units));
  out.push('', '--- Aggregate object store stats across all nodes ---', aggregate(report, units));
  return out.join('\n');
}

/** Whether a row's object takes memory in its process's store (objects on disk or on another node do not). */
const inMemory = (r: ReferenceRow): boolean => r.where === undefined || r.where === 'inline' || r.where === 'memory' || r.where === 'memory+disk';

/**
 * Totals over reference rows: each object's size counted once, and only
 * while it is in memory, so a node's summary adds up to the store usage
 * the aggregate line reports.
 */
export function summarize(rows: ReferenceRow[]): MemorySummary {
  const s: MemorySummary = { memUsedByObjects: 0, localReferences: 0, pinnedCount: 0, pendingTasks: 0, capturedInObjects: 0, actorHandles: 0 };
  const sized = new Set<string>();
  for (const r of rows) {
    if (r.size !== undefined && inMemory(r) && !sized.has(r.objectRef)) { sized.add(r.objectRef); s.memUsedByObjects += r.size; }
    switch (r.referenceType) {
      case 'LOCAL_REFERENCE': s.localReferences += r.count; break;
      case 'PINNED_IN_MEMORY': s.pinnedCount += r.count; break;
      case 'USED_BY_PENDING_TASK': s.pendingTasks += r.count; break;
      case 'CAPTURED_IN_OBJECT': s.capturedInObjects += r.count; break;
      case 'ACTOR_HANDLE': s.actorHandles += r.count; break;
    }
  }
  return s;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const HOLDERS = new Set(['Driver', 'Worker', 'Node']);

function isRow(v: unknown): v is ReferenceRow {
  return isObj(v) && isStr(v.address) && isNum(v.pid) && (v.threadId === undefined || isNum(v.threadId)) && HOLDERS.has(v.type as string)
    && isStr(v.objectRef) && (v.size === undefined || isNum(v.size)) && (REF_KIND_NAMES as readonly unknown[]).includes(v.referenceType)
    && isNum(v.count) && isStr(v.callSite);
}

/**
 * Whether `v` (a report another process sent) has the shape the formatter
 * reads; one that does not is left out and named, never formatted into
 * wrong figures.
 */
export function isNodeMemory(v: unknown): v is NodeMemory {
  if (!isObj(v) || !isStr(v.address) || !isStr(v.nodeId) || !Array.isArray(v.references) || !Array.isArray(v.threads) || !isObj(v.store) || !isNum(v.rssMinusShared)) return false;
  const st = v.store;
  const storeOk = ['capacity', 'usedBytes', 'inlineBytes', 'committedBytes', 'objects', 'objectsInMemory', 'arenas', 'largestFreeBlock'].every((k) => isNum(st[k])) && isObj(st.spill)
    && Object.values(st.spill).every(isNum);
  return storeOk && v.references.every(isRow) && v.threads.every((t) => isObj(t) && HOLDERS.has(t.type as string) && isNum(t.pid) && isNum(t.heapBytes) && isNum(t.guestBytes));
}
