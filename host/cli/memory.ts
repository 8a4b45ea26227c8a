/** `tsray memory`: object references and memory use of the tsray processes on this machine, or of a whole cluster (`--address`). */
import { Option, type Command } from 'commander';
import { queryNodes } from '../node/admin.js';
import { InvalidArgumentError, RuntimeStateError } from '../errors.js';
import type { MemoryReply } from '../cluster/protocol.js';
import { headOptions, withHead, type HeadOptions } from './head-connection.js';
import { formatMemory, isNodeMemory, GROUP_BY, SORT_BY, UNITS, type GroupBy, type MemoryReport, type SortBy, type Units } from '../../store/report.js';

interface MemoryOptions extends HeadOptions {
  groupBy: GroupBy;
  sortBy: SortBy;
  units: Units;
  statsOnly?: boolean;
  json?: boolean;
  numEntries?: string;
  format: boolean;
}

/** Every node's and driver's report, from the head at `o.address`; those that did not answer are named. */
async function fromCluster(o: MemoryOptions): Promise<{ nodes: unknown[]; missing: string[] }> {
  const r = await withHead(o, (peer) => peer.request<MemoryReply>({ t: 'memory', id: 0 }));
  return { nodes: r.nodes, missing: r.missing ?? [] };
}

export function registerMemory(program: Command): void {
  headOptions(program.command('memory')
    .description('list the object references held in tsray processes and their memory use (as `ray memory`)'),
  'a cluster\'s head: report every node and driver of that cluster (default: the tsray processes on this machine)')
    .addOption(new Option('--group-by <key>', 'group references by').choices([...GROUP_BY]).default('NODE_ADDRESS'))
    .addOption(new Option('--sort-by <key>', 'sort references by (OBJECT_SIZE: smallest first, as Ray)').choices([...SORT_BY]).default('OBJECT_SIZE'))
    .addOption(new Option('--units <unit>', 'units for sizes').choices([...UNITS]).default('MB'))
    .option('--num-entries <n>', 'show at most this many references per group')
    .option('--no-format', 'print rows as plain space-separated fields instead of aligned columns')
    .option('--stats-only', 'print only the memory and object store statistics')
    .option('--json', 'print the report as JSON')
    .action(async (o: MemoryOptions) => {
      let numEntries: number | undefined;
      if (o.numEntries !== undefined) {
        numEntries = Number(o.numEntries);
        if (!Number.isSafeInteger(numEntries) || numEntries < 0) throw new InvalidArgumentError(`--num-entries takes a whole number >= 0, got '${o.numEntries}'`);
      }
      const got = o.address !== undefined ? await fromCluster(o) : { nodes: await queryNodes('memory'), missing: [] as string[] };
      const nodes = got.nodes.filter(isNodeMemory);
      const missing = [...got.missing, ...(nodes.length < got.nodes.length ? [`${got.nodes.length - nodes.length} malformed report(s)`] : [])];
      if (nodes.length === 0 && o.address === undefined) throw new RuntimeStateError('no running tsray node found on this machine; start one with tsray.init() in a program that keeps running, or pass --address');
      const report: MemoryReport = { time: new Date().toISOString(), nodes };
      if (o.json) {
        process.stdout.write(JSON.stringify(missing.length ? { ...report, missing } : report, null, 2) + '\n');
        return;
      }
      const text = formatMemory(report, {
        groupBy: o.groupBy, sortBy: o.sortBy, units: o.units, statsOnly: !!o.statsOnly, noFormat: !o.format, ...(numEntries !== undefined ? { numEntries } : {}),
      });
      process.stdout.write(text + (missing.length ? `\n\nNot in this report (no answer in time): ${missing.join(', ')}` : '') + '\n');
    });
}
