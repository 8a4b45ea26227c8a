/**
 * Lets a pooled instance keep the linear memory an earlier task grew, and
 * still serve the next task exactly as a fresh instance would.
 *
 * A fresh instance maps fresh pages, and touching them costs page faults
 * (about 0.3 GB/s here, against 10 GB/s for memory already mapped): a task
 * that takes a 4 MiB list pays more for the faults than for its work. But a
 * memory cannot shrink, and a guest that sees a larger `memory.size` than a
 * fresh instance has would behave differently (an allocator that grows from
 * the current end would grow again on every reuse, up to its cap).
 *
 * So the module is rewritten to see a *virtual* size: `memory.size` reads a
 * mutable global, and `memory.grow n` becomes a call that raises the global,
 * growing the real memory only past what it already has. The global is reset
 * with the instance's other globals, and the host zeroes every byte past the
 * snapshot (lean.ts `reset`), so the guest sees the memory size, growth
 * results and contents of a fresh instance. What differs: an access past the
 * virtual size but inside the real memory does not trap (it reads zeros, or
 * what this same task wrote there).
 *
 * The global is exported as `VIRTUAL_MEMORY_SIZE_EXPORT`; names under the
 * host's prefix are refused at load, so a module cannot claim this rewrite
 * without having had it.
 */
import { parse, print } from '@bytecodealliance/jco-transpile/wasm-tools';
import { VIRTUAL_MEMORY_SIZE_EXPORT } from '../abi/sandbox-names.js';
import { KIND, readCore } from './core-sections.js';
import { memoryLimits } from './core-module.js';

const SIZE = '$__tsray_memory_size';
const GROW = '$__tsray_memory_grow';
/** wasm32 addresses at most this many 64 KiB pages. */
const MAX_PAGES = 65536;

/** memory.grow on the virtual size; the real memory grows only past its current size. */
const growFunc = `
  (func ${GROW} (param $n i32) (result i32) (local $old i32) (local $want i32)
    global.get ${SIZE}
    local.set $old
    local.get $n
    i32.const ${MAX_PAGES}
    local.get $old
    i32.sub
    i32.gt_u
    if
      i32.const -1
      return
    end
    local.get $old
    local.get $n
    i32.add
    local.tee $want
    memory.size
    i32.gt_u
    if
      local.get $want
      memory.size
      i32.sub
      memory.grow
      i32.const -1
      i32.eq
      if
        i32.const -1
        return
      end
    end
    local.get $want
    global.set ${SIZE}
    local.get $old)`;

/**
 * Returns `core` with its memory size virtualized, or undefined when it
 * cannot be done exactly: the module does not define exactly one memory and
 * no other, or names a memory in a size or grow instruction, or the text does
 * not parse back. `wat`: the module as wasm-tools prints it, when the caller has it.
 */
export async function virtualizeMemorySize(core: Uint8Array, wat?: string): Promise<Uint8Array | undefined> {
  const info = readCore(core);
  if (info.imports.some((i) => i.kind === KIND.memory)) return undefined;
  const limits = memoryLimits(core);
  if (!limits || limits.count !== 1 || (limits.flags !== 0 && limits.flags !== 1)) return undefined; // one 32-bit unshared memory
  const lines = (wat ?? await print(core)).split('\n');
  let uses = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^(\s*)memory\.(size|grow)\b(.*)$/.exec(line);
    if (!m) continue;
    if (m[3]!.trim() !== '') return undefined; // a memory index or name: not the one memory
    lines[i] = `${m[1]}${m[2] === 'size' ? `global.get ${SIZE}` : `call ${GROW}`}`;
    uses++;
  }
  if (uses === 0) return undefined; // the guest never asks: nothing to virtualize (and its memory never grows by itself)
  let end = lines.length - 1;
  while (end >= 0 && lines[end]!.trim() === '') end--;
  if (lines[end]!.trim() !== ')') return undefined;
  lines.splice(end, 0,
    `  (global ${SIZE} (mut i32) (i32.const ${limits.initial}))`,
    `  (export "${VIRTUAL_MEMORY_SIZE_EXPORT}" (global ${SIZE}))`,
    growFunc);
  try {
    return await parse(lines.join('\n'));
  } catch {
    return undefined; // for one, the module already uses one of the names above
  }
}
