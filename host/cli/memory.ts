/** `tsray memory`: object references and memory use of the tsray nodes running on this machine. */
import { Option, type Command } from 'commander';
import { queryNodes } from '../node/admin.js';
import { RuntimeStateError } from '../errors.js';
import { formatMemory, GROUP_BY, SORT_BY, UNITS, type GroupBy, type MemoryReport, type NodeMemory, type SortBy, type Units } from '../../store/report.js';

export function registerMemory(program: Command): void {
  program
    .command('memory')
    .description('list the object references held in running tsray nodes and their memory use (as `ray memory`)')
    .addOption(new Option('--group-by <key>', 'group references by').choices([...GROUP_BY]).default('NODE_ADDRESS'))
    .addOption(new Option('--sort-by <key>', 'sort references by').choices([...SORT_BY]).default('OBJECT_SIZE'))
    .addOption(new Option('--units <unit>', 'units for sizes').choices([...UNITS]).default('MB'))
    .option('--stats-only', 'print only the memory and object store statistics')
    .option('--json', 'print the report as JSON')
    .action(async (o: { groupBy: GroupBy; sortBy: SortBy; units: Units; statsOnly?: boolean; json?: boolean }) => {
      const nodes = (await queryNodes('memory')) as NodeMemory[];
      if (nodes.length === 0) throw new RuntimeStateError('no running tsray node found on this machine; start one with tsray.init() in a program that keeps running');
      const report: MemoryReport = { time: new Date().toISOString(), nodes };
      if (o.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      process.stdout.write(formatMemory(report, { groupBy: o.groupBy, sortBy: o.sortBy, units: o.units, statsOnly: !!o.statsOnly }) + '\n');
    });
}
