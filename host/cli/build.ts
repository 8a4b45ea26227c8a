/** `tsray build`: AssemblyScript + WIT world -> component, and its TypeScript types beside it. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { onTerminal, progressSink } from '../api/progress.js';

/** The steps a build reports (resolve, check, compile, create, write). */
const BUILD_STEPS = 5;

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('compile an AssemblyScript file into a WebAssembly component for a WIT world; writes its TypeScript types (x.d.ts) beside it')
    .argument('<entry>', 'AssemblyScript file holding the world\'s exports')
    .requiredOption('--wit <paths...>', '.wit files or directories of them (tsray:runtime and tsray:accel are always included)')
    .requiredOption('--world <name>', 'the world to build, e.g. matrix or tsray:examples/matrix')
    .option('-o, --out <file>', 'where to write the component (default build/<world>.wasm); its types go to the same name with .d.ts', '')
    .option('--debug', 'build without optimisation, with debug info')
    .option('--force', 'build even when nothing changed since the last build of this output')
    .option('--print-glue', 'print the generated canonical-ABI glue to stdout')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText('after', [
      '',
      'An output built from the same inputs (sources, WIT, world, options, compiler and tsray versions)',
      'is not built again; --force rebuilds. The inputs are recorded in <out>.inputs.',
      '',
      'Example:',
      '  tsray build guest/examples/matrix.ts --wit wit/ --world matrix -o build/matrix.wasm',
    ].join('\n'))
    .action(async (entry: string, o: { wit: string[]; world: string; out: string; debug?: boolean; force?: boolean; printGlue?: boolean; quiet?: boolean }) => {
      const out = o.out || `build/${o.world.split('/').pop()}.wasm`;
      const started = Date.now();
      const upToDate = (ms: number): void => {
        if (!o.quiet) process.stderr.write(`${out} is up to date: its inputs did not change (${ms} ms; --force rebuilds)\n`);
      };
      if (!o.force && !o.printGlue) {
        // Checked before the compiler loads (over a second), so an unchanged build returns at once.
        const [{ readWitSources }, cache] = await Promise.all([import('../wit/load.js'), import('../toolchain/build-cache.js')]);
        if (cache.upToDate({ entry: resolve(entry), wit: readWitSources(o.wit), world: o.world, debug: !!o.debug }, out)) return upToDate(Date.now() - started);
      }
      // Loaded on use: the compiler is heavy, and other commands should start fast.
      const { build, dtsPath } = await import('../toolchain/build.js');
      // On a terminal a bar over the build's steps; elsewhere (logs, CI) one line per step.
      const bar = !o.quiet && onTerminal() ? progressSink(`building ${out}`, BUILD_STEPS, true) : undefined;
      let steps = 0;
      let r: Awaited<ReturnType<typeof build>>;
      try {
        r = await build({
          entry, wit: o.wit, world: o.world, out, debug: !!o.debug, cache: true, force: !!o.force,
          onProgress: o.quiet ? undefined : bar ? () => bar.step(Math.min(++steps, BUILD_STEPS)) : (s) => process.stderr.write(`  ${s}\n`),
        });
      } finally {
        bar?.end();
      }
      if (o.printGlue) process.stdout.write(r.glue);
      if (r.cached) return upToDate(Date.now() - started);
      if (!o.quiet) process.stderr.write(`built ${out} (${r.component.length} bytes) and ${dtsPath(out)} in ${Date.now() - started} ms\n`);
    });
}
