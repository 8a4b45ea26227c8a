/** `tsray types`: a component's exports as TypeScript declarations, for typed drivers. */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';

export function registerTypes(program: Command): void {
  program
    .command('types')
    .description('write TypeScript declarations of a component\'s exports, for tsray.load<Component>(path)')
    .argument('<component>', 'path to a .wasm component')
    .option('-o, --out <file>', 'where to write them (default: the component\'s path with .d.ts; - for stdout)')
    .addHelpText('after', [
      '',
      'The file exports an interface Component; a driver typed by it gets typed remote functions,',
      'actor handles and refs:',
      '',
      '  tsray types build/matrix.wasm            # writes build/matrix.d.ts',
      '',
      "  import type { Component } from './build/matrix.js';",
      "  const mod = await tsray.load<Component>('build/matrix.wasm');",
      "  const total: number = await tsray.get(mod.fn('sum').remote(new Float64Array([1, 2])));",
      '',
      'tsray build -o x.wasm writes x.d.ts the same way.',
    ].join('\n'))
    .action(async (file: string, o: { out?: string }) => {
      const [{ loadComponent }, { dtsPath, generateDts }] = await Promise.all([import('../component/load.js'), import('../toolchain/dts.js')]);
      const { world } = await loadComponent(file);
      const text = generateDts(world, { source: file.split(/[\\/]/).pop() });
      if (o.out === '-') { process.stdout.write(text); return; }
      const out = o.out || dtsPath(file);
      try {
        writeFileSync(out, text);
      } catch (e) {
        throw new InvalidArgumentError(`cannot write ${out}: ${(e as Error).message}`);
      }
      process.stderr.write(`wrote ${out} (types of ${world.packageName}/${world.name})\n`);
    });
}
