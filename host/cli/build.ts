/** `tsray build`: AssemblyScript + WIT world -> component. */
import type { Command } from 'commander';

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('compile an AssemblyScript file into a WebAssembly component for a WIT world')
    .argument('<entry>', 'AssemblyScript file holding the world\'s exports')
    .requiredOption('--wit <paths...>', '.wit files or directories of them (tsray:runtime is always included)')
    .requiredOption('--world <name>', 'the world to build, e.g. matrix or tsray:examples/matrix')
    .option('-o, --out <file>', 'where to write the component', '')
    .option('--debug', 'build without optimisation, with debug info')
    .option('--print-glue', 'print the generated canonical-ABI glue to stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', '\nExample:\n  tsray build guest/examples/matrix.ts --wit wit/ --world matrix -o build/matrix.wasm')
    .action(async (entry: string, o: { wit: string[]; world: string; out: string; debug?: boolean; printGlue?: boolean; quiet?: boolean }) => {
      // Loaded on use: the compiler is heavy, and other commands should start fast.
      const { build } = await import('../toolchain/build.js');
      const out = o.out || `build/${o.world.split('/').pop()}.wasm`;
      const started = Date.now();
      const r = await build({
        entry, wit: o.wit, world: o.world, out, debug: !!o.debug,
        onProgress: o.quiet ? undefined : (s) => process.stderr.write(`  ${s}\n`),
      });
      if (o.printGlue) process.stdout.write(r.glue);
      if (!o.quiet) process.stderr.write(`built ${out} (${r.component.length} bytes) in ${Date.now() - started} ms\n`);
    });
}
