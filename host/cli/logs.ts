/**
 * `tsray logs`: the guest log lines of a task or an actor (or all of them),
 * as Ray's `ray logs`, from this machine's tsray processes or, with
 * `--address`, every node of a cluster; `--follow` keeps printing new ones.
 */
import type { Command } from 'commander';
import { queryNodes } from '../node/admin.js';
import { checkedLogs, type LogLine, type NodeLogs } from '../node/log-ring.js';
import type { LogsReply } from '../cluster/protocol.js';
import { LOG_TEXT_CHARS, LOG_WHO_CHARS } from '../engine/guest-log.js';
import { safeLine } from '../util/safe-line.js';
import { headOptions, withHead, type HeadOptions } from './head-connection.js';

/** How often `--follow` asks again. */
const FOLLOW_MS = 500;

interface LogsOptions extends HeadOptions {
  task?: string;
  actor?: string;
  follow?: boolean;
  json?: boolean;
}

async function fetchLogs(o: HeadOptions): Promise<NodeLogs[]> {
  if (o.address === undefined) return checkedLogs(await queryNodes('logs'));
  return checkedLogs((await withHead(o, (peer) => peer.request<LogsReply>({ t: 'logs', id: 0 }))).nodes);
}

const wanted = (o: LogsOptions) => (l: LogLine): boolean => (o.task === undefined || l.taskId === o.task) && (o.actor === undefined || l.actorId === o.actor);

export function registerLogs(program: Command): void {
  headOptions(program.command('logs')
    .description('print the guest log lines of a task, an actor, or all work (as `ray logs`)'),
  'a cluster\'s head: read every node of that cluster (default: the tsray processes on this machine)')
    .option('--task <id>', 'only this task\'s lines (ids from tsray list tasks)')
    .option('--actor <id>', 'only this actor\'s lines (its constructor and calls)')
    .option('-f, --follow', 'keep printing new lines until interrupted')
    .option('--json', 'print the lines as JSON (one array; not with --follow)')
    .action(async (o: LogsOptions) => {
      const seen = new Map<string, number>();
      const keep = wanted(o);
      const once = async (): Promise<LogLine[]> => {
        const out: (LogLine & { nodeId: string })[] = [];
        for (const n of await fetchLogs(o)) {
          const after = seen.get(n.nodeId) ?? 0;
          for (const l of n.lines) {
            if (l.seq <= after) continue;
            seen.set(n.nodeId, Math.max(seen.get(n.nodeId) ?? 0, l.seq));
            if (keep(l)) out.push({ ...l, nodeId: n.nodeId });
          }
        }
        out.sort((a, b) => a.time - b.time);
        if (o.json && !o.follow) {
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          // Escaped as the driver prints guest lines: a guest cannot drive the terminal.
          for (const l of out) process.stdout.write(`(${safeLine(l.who, LOG_WHO_CHARS)} node=${safeLine(l.nodeId.slice(0, 8), 8)} worker=${Math.trunc(l.workerId)}) [${l.level}] ${safeLine(l.text, LOG_TEXT_CHARS)}\n`);
        }
        return out;
      };
      await once();
      if (!o.follow) return;
      for (;;) {
        await new Promise((r) => setTimeout(r, FOLLOW_MS));
        await once();
      }
    });
}
