/**
 * `wasi:random` (capability `wasi:random`): `random`, `insecure` and
 * `insecure-seed`, all served from the operating system's cryptographic
 * generator. One call returns at most `MAX_RANDOM_BYTES`; asking for more
 * fails the task.
 */
import { randomFillSync } from 'node:crypto';
import { MAX_RANDOM_BYTES } from './capabilities.js';
import { count, trap, type WasiContext } from './context.js';

function bytes(what: string, len: bigint): Uint8Array {
  const n = count(len);
  if (n > MAX_RANDOM_BYTES) trap(what, `asked for ${len} random bytes; at most ${MAX_RANDOM_BYTES} are given per call`);
  return randomFillSync(new Uint8Array(n));
}

function u64(): bigint {
  return randomFillSync(new BigUint64Array(1))[0] as bigint;
}

/** The `wasi:random/random`, `wasi:random/insecure` and `wasi:random/insecure-seed` interfaces. */
export function randomImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const need = (iface: string, fn: string) => ctx.need('wasi:random', `wasi:random/${iface}.${fn}`);
  // The seed is one value per instance, as the interface intends; drawn only if asked for.
  let seed: [bigint, bigint] | undefined;
  return {
    'wasi:random/random': {
      getRandomBytes: (len: bigint) => { need('random', 'get-random-bytes'); return bytes('wasi:random/random.get-random-bytes', len); },
      getRandomU64: () => { need('random', 'get-random-u64'); return u64(); },
    },
    'wasi:random/insecure': {
      getInsecureRandomBytes: (len: bigint) => { need('insecure', 'get-insecure-random-bytes'); return bytes('wasi:random/insecure.get-insecure-random-bytes', len); },
      getInsecureRandomU64: () => { need('insecure', 'get-insecure-random-u64'); return u64(); },
    },
    'wasi:random/insecure-seed': {
      insecureSeed: (): [bigint, bigint] => { need('insecure-seed', 'insecure-seed'); seed ??= [u64(), u64()]; return seed; },
    },
  };
}
