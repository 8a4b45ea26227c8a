// Deterministic mutations of a real component, for the load() fuzz test: case `i` of a base
// component is always the same bytes, so a failure found once can be replayed with its index.

import { customSection } from './wat-components.mjs';

const MAGIC_AND_LAYER = 8;
const WIT_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789-_<>{}(),:;=@/.% \n';
const SWAPS = [['s32', 'u64'], ['f64', 'string'], ['list<f64>', 'f64'], ['u32', 'tuple<u32, u32>'], ['s64', 'option<s64>'], ['string', 'list<string>']];

/** A small seeded PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)] };
}

function readLeb(bytes, pos) {
  let v = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(b & 0x80)) return [v, pos];
  }
}

/** Top-level sections of a well-formed module or component: `{ id, at, start, end }`. */
export function sections(bytes) {
  const out = [];
  let pos = MAGIC_AND_LAYER;
  while (pos < bytes.length) {
    const [size, start] = readLeb(bytes, pos + 1);
    out.push({ id: bytes[pos], at: pos, start, end: start + size });
    pos = start + size;
  }
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** The pieces of a base component the mutations work on. */
export function anatomy(bytes) {
  const secs = sections(bytes);
  const meta = secs.find((s) => s.id === 0 && new TextDecoder().decode(bytes.subarray(s.start + 1, s.start + 1 + bytes[s.start])) === 'tsray:wit');
  const core = secs.find((s) => s.id === 1);
  const metadata = JSON.parse(new TextDecoder().decode(bytes.subarray(meta.start + 1 + bytes[meta.start], meta.end)));
  return { bytes, secs, meta, core, metadata };
}

/** The component with its tsray:wit section replaced by `data`. */
function withMetadataBytes(a, data) {
  const others = a.secs.filter((s) => s !== a.meta).map((s) => a.bytes.subarray(s.at, s.end));
  return concat([a.bytes.subarray(0, MAGIC_AND_LAYER), ...others, customSection('tsray:wit', data)]);
}

function mutateText(r, text) {
  const at = r.int(text.length);
  const len = 1 + r.int(40);
  switch (r.int(6)) {
    case 0: return text.slice(0, at) + Array.from({ length: len }, () => r.pick(WIT_CHARS)).join('') + text.slice(at + len);
    case 1: return text.slice(0, at) + text.slice(at, at + len * 10) + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + len * 5);
    case 3: { const [a, b] = r.pick(SWAPS); return r.int(2) ? text.replaceAll(a, b) : text.replace(b, a); }
    case 4: { const lines = text.split('\n'); const i = r.int(lines.length); const j = r.int(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; return lines.join('\n'); }
    default: return text.slice(0, at) + `${'list<'.repeat(len * 5)}u8${'>'.repeat(len * 5)}` + text.slice(at);
  }
}

function flip(r, bytes, from, to, n) {
  const out = bytes.slice();
  for (let k = 0; k < n; k++) out[from + r.int(Math.max(1, to - from))] ^= 1 + r.int(255);
  return out;
}

/** Case `i`: one mutation of the component `a` (from `anatomy`). Returns `{ kind, bytes }`. */
export function fuzzCase(a, i) {
  const r = rng(i * 7919 + 17);
  const b = a.bytes;
  switch (i % 8) {
    case 0: return { kind: 'byte flips anywhere', bytes: flip(r, b, 0, b.length, 1 + r.int(8)) };
    case 1: return { kind: 'truncation', bytes: b.slice(0, r.int(b.length)) };
    case 2: {
      const secs = a.secs.map((s) => b.subarray(s.at, s.end));
      const x = r.int(secs.length);
      const y = r.int(secs.length);
      const op = r.int(3);
      if (op === 0) [secs[x], secs[y]] = [secs[y], secs[x]];
      else if (op === 1) secs.splice(x, 0, secs[y]);
      else secs.splice(x, 1);
      return { kind: 'section swap, copy or removal', bytes: concat([b.subarray(0, MAGIC_AND_LAYER), ...secs]) };
    }
    case 3: return { kind: 'byte flips in the core module', bytes: flip(r, b, a.core.start, a.core.end, 1 + r.int(4)) };
    case 4: {
      // Swap two sections inside the core module: sizes are unchanged, so the envelope stays valid.
      const inner = sections(b.subarray(a.core.start, a.core.end));
      const x = inner[r.int(inner.length)];
      const y = inner[r.int(inner.length)];
      const [lo, hi] = x.at <= y.at ? [x, y] : [y, x];
      const core = b.subarray(a.core.start, a.core.end);
      const swapped = concat([core.subarray(0, lo.at), core.subarray(hi.at, hi.end), core.subarray(lo.end, hi.at), core.subarray(lo.at, lo.end), core.subarray(hi.end)]);
      return { kind: 'core section swap', bytes: concat([b.subarray(0, a.core.start), lo === hi ? core : swapped, b.subarray(a.core.end)]) };
    }
    case 5: return { kind: 'byte flips in the metadata section', bytes: flip(r, b, a.meta.start, a.meta.end, 1 + r.int(6)) };
    case 6: {
      let wit = a.metadata.wit;
      for (let k = 1 + r.int(3); k > 0; k--) wit = mutateText(r, wit);
      return { kind: 'mutated metadata WIT', bytes: withMetadataBytes(a, new TextEncoder().encode(JSON.stringify({ ...a.metadata, wit }))) };
    }
    default: {
      const json = new TextEncoder().encode(JSON.stringify(a.metadata));
      const cut = r.int(3) === 0 ? json.slice(0, r.int(json.length)) : flip(r, json, 0, json.length, 1 + r.int(4));
      return { kind: 'corrupt metadata JSON', bytes: withMetadataBytes(a, cut) };
    }
  }
}
