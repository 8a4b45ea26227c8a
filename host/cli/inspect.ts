/** `tsray inspect`: what a component exports, as the host sees it. */
import type { Command } from 'commander';

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('validate a component and list its exported functions and resources')
    .argument('<component>', 'path to a .wasm component')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, o: { json?: boolean }) => {
      const { load } = await import('../component/load.js');
      const { missingGrants } = await import('../engine/wasi/index.js');
      const mod = await load(file);
      const c = mod.component!;
      const needs = missingGrants(c.wasiImports, []);
      if (o.json) {
        process.stdout.write(JSON.stringify({
          world: `${mod.world.packageName}/${mod.world.name}`, hash: mod.hash, engine: c.engine, engineReason: c.engineReason,
          imports: mod.world.imports.map((i) => i.name), capabilities: needs, functions: mod.functions, resources: mod.resources,
        }, null, 2) + '\n');
        return;
      }
      const lines = [
        `world ${mod.world.packageName}/${mod.world.name}`,
        `engine: ${c.engine} (${c.engineReason})`,
        `imports: ${mod.world.imports.map((i) => i.name).join(', ') || 'none'}`,
        ...(needs.length ? ['capabilities a task must be granted:', ...needs.map((n) => `  ${n}`)] : []),
        'functions:',
      ];
      for (const f of mod.functions) lines.push(`  ${f.interface ? f.interface + '#' : ''}${f.signature}`);
      if (mod.resources.length) lines.push('resources:');
      for (const r of mod.resources) {
        lines.push(`  ${r.interface}#${r.name}`);
        if (r.ctor) lines.push(`    ${r.ctor.signature}`);
        for (const m of [...r.methods, ...r.statics]) lines.push(`    ${m.signature}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
