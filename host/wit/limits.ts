/**
 * Bounds on the WIT the host accepts, so that hostile WIT (a file, or a
 * component's metadata) ends in a `WitError` at once instead of exhausting
 * the stack, the heap or the CPU. Generous for any real interface.
 */
import type { ResolvedWorld, WitType } from './types.js';

/**
 * How deep types may nest: in the text (`list<list<...>>`), in a resolved
 * type (a record holding a record ...), and in the chain of named types,
 * aliases, `use`s and `include`s the resolver follows at once.
 */
export const MAX_TYPE_DEPTH = 100;

/**
 * The largest unfolded size of one type, and of all function signatures of a
 * world together: the number of nodes of the type written out in full (a
 * `tuple<t, t>` counts `t` twice), plus the length of each name in it. The
 * host's layouts, codecs and descriptions are linear in it.
 */
export const MAX_TYPE_SIZE = 100_000;

/** The largest `tsray:wit` metadata section load() parses. */
export const MAX_METADATA_BYTES = 1 << 20;

interface Measure { depth: number; size: number }

const measures = new WeakMap<WitType, Measure>();

function children(t: WitType): WitType[] {
  switch (t.kind) {
    case 'list': return [t.elem];
    case 'option': return [t.type];
    case 'tuple': return t.types;
    case 'record': return t.fields.map((f) => f.type);
    case 'variant': return t.cases.flatMap((c) => (c.type ? [c.type] : []));
    case 'result': return [t.ok, t.err].filter((x): x is WitType => x !== undefined);
    default: return [];
  }
}

function ownSize(t: WitType): number {
  switch (t.kind) {
    case 'record': return t.name.length + t.fields.length;
    case 'variant': return t.name.length + t.cases.length;
    case 'enum': return t.name.length + t.cases.length;
    case 'flags': return t.name.length + t.flags.length;
    case 'own': case 'borrow': return t.resource.name.length;
    default: return 0;
  }
}

/**
 * Depth and unfolded size of `t`, memoised per type object. Types are built
 * bottom-up, so the children of a new type are already measured and this
 * never recurses far.
 */
export function measure(t: WitType): Measure {
  let m = measures.get(t);
  if (!m) {
    m = { depth: 1, size: 1 + ownSize(t) };
    for (const c of children(t)) {
      const cm = measure(c);
      m.depth = Math.max(m.depth, cm.depth + 1);
      m.size += cm.size;
    }
    measures.set(t, m);
  }
  return m;
}

/** The unfolded size of all function signatures of a world together (compared with MAX_TYPE_SIZE). */
export function worldSize(world: ResolvedWorld): number {
  let size = 0;
  for (const item of [...world.imports, ...world.exports]) {
    for (const f of item.kind === 'func' ? [item.func] : item.iface.funcs) {
      for (const t of [...f.params.map((p) => p.type), ...(f.result ? [f.result] : [])]) size += measure(t).size;
    }
  }
  return size;
}
