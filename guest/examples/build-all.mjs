// Builds every example in this folder into build/<world>.wasm, with its
// TypeScript types in build/<world>.d.ts (run by `npm run build`).
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

let i = 0;
for (const name of examples) {
  const started = Date.now();
  const out = join(root, 'build', `${name}.wasm`);
  const r = await build({ entry: join(here, `${name}.ts`), wit: join(root, 'wit'), world: name, out, cache: true, force });
  const shown = relative(process.cwd(), out);
  process.stderr.write(`[${++i}/${examples.length}] ${r.cached ? `${shown} is up to date` : `built ${shown} in ${Date.now() - started} ms`}\n`);
}
