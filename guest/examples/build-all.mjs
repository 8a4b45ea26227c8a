// Builds every example in this folder into build/<world>.wasm (run by `npm run build`).
//
// An example is rebuilt only when an input of its build changed: its source,
// the WIT, the guest SDK, the compiled toolchain or the AssemblyScript
// version. The key is a hash of all of them (every toolchain file, not only
// the ones a build reads, so a change anywhere rebuilds: a stale component is
// never kept). TSRAY_REBUILD=1 rebuilds everything.
import { build } from 'tsray';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const examples = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('__')).map((f) => f.replace(/\.ts$/, ''));

/** Every file under `dir` (sorted, so the hash does not depend on listing order). */
function files(dir) {
  return readdirSync(dir).sort().flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const shared = createHash('sha256');
const asc = createRequire(import.meta.url).resolve('assemblyscript/package.json');
shared.update(`assemblyscript ${JSON.parse(readFileSync(asc, 'utf8')).version}\n`);
for (const dir of [join(root, 'wit'), join(root, 'guest', 'sdk'), join(root, 'dist', 'host')]) {
  for (const f of files(dir)) if (!f.endsWith('.map')) shared.update(`${relative(root, f)}\n`).update(readFileSync(f));
}
const sharedKey = shared.digest('hex');

let i = 0;
for (const name of examples) {
  const started = Date.now();
  const entry = join(here, `${name}.ts`);
  const out = join(root, 'build', `${name}.wasm`);
  const stamp = `${out}.inputs`;
  const key = createHash('sha256').update(sharedKey).update(readFileSync(entry)).digest('hex');
  const shown = relative(process.cwd(), out);
  if (process.env.TSRAY_REBUILD !== '1' && existsSync(out) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) {
    process.stderr.write(`[${++i}/${examples.length}] ${shown} is up to date\n`);
    continue;
  }
  await build({ entry, wit: join(root, 'wit'), world: name, out });
  writeFileSync(stamp, key);
  process.stderr.write(`[${++i}/${examples.length}] built ${shown} in ${Date.now() - started} ms\n`);
}
