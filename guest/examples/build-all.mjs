// Builds every example in this folder into build/<world>.wasm, with its
// TypeScript types in build/<world>.d.ts, and tsray's own components
// (guest/builtin) into dist/builtin/ (run by `npm run build`).
//
// `build({ cache: true })` skips an example whose inputs did not change (its
// source, the WIT, the options, the compiler and tsray's own toolchain: see
// host/toolchain/build-cache.ts), as `tsray build` does. TSRAY_REBUILD=1
// rebuilds everything.
import { build } from 'tsray';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const examples = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('__')).map((f) => f.replace(/\.ts$/, ''));
const force = process.env.TSRAY_REBUILD === '1';

// And the components tsray ships (guest/builtin, e.g. tsray.data's read tasks) into dist/builtin/.
const builtinDir = join(here, '..', 'builtin');
const builtins = readdirSync(builtinDir).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
const jobs = [
  ...examples.map((name) => ({ entry: join(here, `${name}.ts`), world: name, out: join(root, 'build', `${name}.wasm`) })),
  ...builtins.map((name) => ({ entry: join(builtinDir, `${name}.ts`), world: name, out: join(root, 'dist', 'builtin', `${name}.wasm`) })),
];

let i = 0;
for (const { entry, world, out } of jobs) {
  const started = Date.now();
  const r = await build({ entry, wit: join(root, 'wit'), world, out, cache: true, force });
  const shown = relative(process.cwd(), out);
  process.stderr.write(`[${++i}/${jobs.length}] ${r.cached ? `${shown} is up to date` : `built ${shown} in ${Date.now() - started} ms`}\n`);
}
