// Component binaries written byte by byte, for types no WIT toolchain would emit.
import { leb } from './wat-components.mjs';

/** A non-negative type index as the signed LEB128 a valtype uses. */
function s33(n) {
  const out = [];
  for (;;) {
    const b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n === 0 && (b & 0x40) === 0) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

const name = (s) => [...leb(Buffer.byteLength(s)), ...Buffer.from(s)];
const section = (id, items) => [id, ...leb([...leb(items.length), ...items.flat()].length), ...leb(items.length), ...items.flat()];
const PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
const U8 = 0x7d;

/**
 * A component whose only item is an imported function `f(a: T)`, where T is
 * built by `types`: an array of type definitions (byte arrays), T the last.
 */
export function importing(types) {
  const func = [0x40, ...leb(1), ...name('a'), ...s33(types.length - 1), 0x01, 0x00];
  const all = [...types, func];
  const imp = [0x00, ...name('f'), 0x01, ...leb(all.length - 1)];
  return new Uint8Array([...PREAMBLE, ...section(7, all), ...section(10, [imp])]);
}

/** list<list<...<u8>>> nested `depth` times, one type index per level. */
export function deepLists(depth) {
  return importing([[0x70, U8], ...Array.from({ length: depth }, (_, i) => [0x70, ...s33(i)])]);
}

/** tuple<t, t> doubled `times` times over u8: tiny in bytes, 2^times written out. */
export function doublingTuples(times) {
  return importing([[0x6f, 2, U8, U8], ...Array.from({ length: times }, (_, i) => [0x6f, 2, ...s33(i), ...s33(i)])]);
}

/** A type section that claims `count` types and holds none. */
export function hugeCount(count) {
  const body = [...leb(count)];
  return new Uint8Array([...PREAMBLE, 7, ...leb(body.length), ...body]);
}
