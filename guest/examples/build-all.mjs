// Builds every example in this folder into build/<world>.wasm (run by `npm run build`).
import { build } from 'tsray';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const examples = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('__')).map((f) => f.replace(/\.ts$/, ''));
let i = 0;
for (const name of examples) {
  const started = Date.now();
  await build({ entry: join(here, `${name}.ts`), wit: join(root, 'wit'), world: name, out: join(root, 'build', `${name}.wasm`) });
  process.stderr.write(`[${++i}/${examples.length}] built ${relative(process.cwd(), join(root, 'build', `${name}.wasm`))} in ${Date.now() - started} ms\n`);
}
