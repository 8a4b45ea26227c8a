// Fuzzing the guest side of the runtime: random and mutated CBOR handed to
// put, submit and actor creation from inside a guest. Every call ends in "ok"
// or a typed failure code the guest sees, never a crash of the node, and the
// node still runs nested work after. Seeded, so a failure replays;
// TSRAY_FUZZ_RUNS raises the count.
import t from 'tap';
import { encode } from 'cbor-x';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { withRuntime } from '../helpers/runtime.mjs';

const RUNS = Number(process.env.TSRAY_FUZZ_RUNS ?? 90);
const nested = await tsray.load(await prebuilt('nested'));

/** A small deterministic PRNG (mulberry32). */
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [encode([5]), encode(['x', 1, [2, 3]]), encode({ numReturns: 2 }), encode([new Float64Array([1, 2])]), encode([{ objectId: 'ab' }]), new Uint8Array([0xd9, 0x9c, 0x41, 0x62, 0x30, 0x30])];

function mutate(r) {
  const pick = r();
  if (pick < 0.2) return Uint8Array.from({ length: Math.floor(r() * 40) }, () => Math.floor(r() * 256));
  const b = Uint8Array.from(SEEDS[Math.floor(r() * SEEDS.length)]);
  const flips = 1 + Math.floor(r() * 4);
  for (let i = 0; i < flips && b.length; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
  return pick < 0.6 ? b : b.subarray(0, Math.floor(r() * b.length));
}

const typed = /^(ok|ERR_[A-Z_]+: )/;

t.test(`${RUNS} mutated CBOR values through put, submit and actor creation end in typed failures`, async (t) => {
  await withRuntime({ numCpus: 2 }, async () => {
    const r = rng(0x15);
    let bad = 0;
    const calls = [];
    for (let i = 0; i < RUNS; i++) {
      const which = i % 3;
      const bytes = mutate(r);
      calls.push(which === 0 ? nested.fn('put-raw').remote(bytes)
        // Targets whose work is bounded whatever the arguments (no sizes or durations a mutation could blow up).
        : which === 1 ? nested.fn('submit-raw').remote(['noop', 'sum-refs', 'no-such'][i % 3], bytes, i % 2 ? mutate(r) : new Uint8Array(0))
          : i % 2 ? nested.fn('create-raw').remote('param-server', encode([4]), bytes) : nested.fn('create-raw').remote('no-such', bytes, new Uint8Array(0)));
    }
    const out = await tsray.get(calls);
    for (const [i, s] of out.entries()) {
      if (!typed.test(s)) { bad++; t.fail(`call ${i}: ${String(s).slice(0, 200)}`); }
    }
    t.equal(bad, 0, 'every answer is ok or a typed failure');
    t.equal(await tsray.get(nested.fn('fib').remote(10)), 55, 'the node still runs nested work');
  });
});
