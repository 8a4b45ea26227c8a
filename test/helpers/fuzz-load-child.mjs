// Child process of the load() fuzz test: loads cases [from, to) of the mutated components and
// reports each on stdout as `start <i>` then `done <i> <outcome> <ms>`; a crash or hang here is
// seen by the parent from the last `start` line.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { load, ComponentError, WitError } from 'tsray';
import { anatomy, fuzzCase } from './fuzz-components.mjs';

const [dir, from, to] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
// The harness checks itself with TSRAY_FUZZ_SELFTEST=crash:<i>,hang:<i>,oom:<i>: the child then misbehaves at those cases.
const selftest = new Map((process.env.TSRAY_FUZZ_SELFTEST ?? '').split(',').filter(Boolean).map((x) => x.split(':')).map(([k, v]) => [Number(v), k]));
const bases = readdirSync(dir).filter((f) => f.endsWith('.wasm')).sort().map((f) => anatomy(new Uint8Array(readFileSync(join(dir, f)))));

function outcome(e) {
  if (e instanceof WitError) return 'wit-error';
  if (e instanceof ComponentError) return 'component-error';
  return `untyped:${e?.constructor?.name ?? typeof e}:${String(e?.message ?? e).replace(/\s+/g, ' ').slice(0, 200)}`;
}

for (let i = from; i < to; i++) {
  const { bytes } = fuzzCase(bases[Math.floor(i / 8) % bases.length], i);
  process.stdout.write(`start ${i}\n`);
  const misbehave = selftest.get(i);
  if (misbehave === 'crash') process.abort();
  if (misbehave === 'hang') for (;;);
  if (misbehave === 'oom') for (const hog = []; ;) hog.push(new Array(1 << 20).fill(i));
  const t0 = performance.now();
  let result;
  try {
    const mod = await load(bytes);
    result = `loaded:${mod.functions.length}+${mod.resources.length}`;
  } catch (e) {
    result = outcome(e);
  }
  process.stdout.write(`done ${i} ${(performance.now() - t0).toFixed(1)} ${result}\n`);
}
