/**
 * A node's recent guest log lines, kept for `tsray logs` (Ray's `ray logs`
 * for a task or actor): bounded, the oldest dropped, each numbered so a
 * follower asks only for what is new.
 */
import { isLogLevel, type LogLevel } from '../engine/guest-log.js';
import type { LogMsg } from '../worker/protocol.js';

/** Lines kept per node by default. */
export const LOG_LINES_KEPT = 10_000;

export interface LogLine {
  /** Its number on its node, from 1. */
  seq: number;
  /** Milliseconds since the epoch. */
  time: number;
  level: LogLevel;
  /** The function (or `resource.method`) that wrote it. */
  who: string;
  text: string;
  taskId?: string;
  actorId?: string;
  /** The worker thread that wrote it. */
  workerId: number;
}

/** One node's lines, as it reports them. */
export interface NodeLogs {
  nodeId: string;
  address: string;
  lines: LogLine[];
}

export class LogRing {
  private readonly ring: (LogLine | undefined)[];
  private seq = 0;

  constructor(readonly capacity = LOG_LINES_KEPT) {
    this.ring = new Array<LogLine | undefined>(capacity);
  }

  keep(m: LogMsg, workerId: number): void {
    const seq = ++this.seq;
    this.ring[seq % this.capacity] = {
      seq, time: Date.now(), level: m.log.level, who: m.log.who, text: m.log.text, workerId,
      ...(m.taskId !== undefined ? { taskId: m.taskId } : {}), ...(m.actorId !== undefined ? { actorId: m.actorId } : {}),
    };
  }

  /** The lines kept after number `since`, oldest first. */
  lines(since = 0): LogLine[] {
    const out: LogLine[] = [];
    const first = Math.max(since + 1, this.seq - this.capacity + 1, 1);
    for (let s = first; s <= this.seq; s++) out.push(this.ring[s % this.capacity]!);
    return out;
  }
}

/** The well-formed part of log reports another process sent (malformed lines and reports are dropped). */
export function checkedLogs(v: unknown): NodeLogs[] {
  if (!Array.isArray(v)) return [];
  const out: NodeLogs[] = [];
  for (const n of v) {
    if (n === null || typeof n !== 'object') continue;
    const r = n as Record<string, unknown>;
    if (typeof r.nodeId !== 'string' || !Array.isArray(r.lines)) continue;
    const lines = r.lines.filter((l): l is LogLine => l !== null && typeof l === 'object' && Number.isSafeInteger((l as LogLine).seq)
      && typeof (l as LogLine).text === 'string' && typeof (l as LogLine).who === 'string' && isLogLevel((l as LogLine).level) && typeof (l as LogLine).time === 'number'
      && typeof (l as LogLine).workerId === 'number');
    out.push({ nodeId: r.nodeId, address: typeof r.address === 'string' ? r.address : '?', lines });
  }
  return out;
}
