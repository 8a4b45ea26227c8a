/**
 * Evaluates a component binary's definitions in order, building its index
 * spaces as the component model's validation does, to learn the types of
 * everything it imports and exports. Nested components (the shims toolchains
 * use to give exported interfaces their types) are evaluated when
 * instantiated, with their imports bound to the instantiation's arguments.
 *
 * This reads types only; a binary that is not a valid component is refused
 * separately (load runs a full validation too). Work is bounded: nesting
 * depth and the number of definitions evaluated in all are capped.
 */
import { ComponentError } from '../../errors.js';
import { Reader } from './reader.js';
import {
  PRIMITIVES, isValNode,
  type ComponentNode, type Entity, type FuncTypeNode, type InstanceNode, type Lift, type ResourceNode, type TypeNode, type ValNode,
} from './entities.js';

/** Most components nested inside each other that a binary may use. */
export const MAX_COMPONENT_DEPTH = 16;
/** Most definitions one decode evaluates (instantiating a nested component counts its body again). */
export const MAX_DEFINITIONS = 1_000_000;

const SORT_CORE = 0x00, SORT_FUNC = 0x01, SORT_VALUE = 0x02, SORT_TYPE = 0x03, SORT_COMPONENT = 0x04, SORT_INSTANCE = 0x05;
const CORE_FUNC = 0x00, CORE_MODULE = 0x11, CORE_INSTANCE = 0x12;

/** A core instance: an instantiation of core module `module`, or a bag of inline exports. */
export type CoreInstance = { module: number } | { inline: true };

/** The component's outward face and, at the top level, how its core code is wired. */
export interface Evaluated {
  imports: [string, Entity][];
  exports: [string, Entity][];
  coreModules: number;
  coreInstances: CoreInstance[];
}

interface Budget { left: number }

class Scope {
  types: TypeNode[] = [];
  funcs: Entity[] = [];
  instances: InstanceNode[] = [];
  components: (ComponentNode | { kind: 'component-type' })[] = [];
  coreFuncs: (Lift | undefined)[] = [];
  coreInstances: CoreInstance[] = [];
  coreModules = 0;
  constructor(readonly parent: Scope | undefined, readonly depth: number, readonly budget: Budget) {}

  step(r: Reader): void {
    if (--this.budget.left < 0) r.fail(`more than ${MAX_DEFINITIONS} definitions to evaluate`);
  }

  type(r: Reader, i: number): TypeNode {
    return this.types[i] ?? r.fail(`type index ${i} out of range`);
  }

  valType(r: Reader): ValNode {
    const v = r.s33();
    if (v < 0) {
      const p = PRIMITIVES[v & 0x7f];
      if (!p) r.fail(`unknown value type 0x${(v & 0x7f).toString(16)}`);
      return { kind: p };
    }
    const t = this.type(r, v);
    if (!isValNode(t)) r.fail(`type ${v} is not a value type`);
    return t;
  }

  resource(r: Reader): ResourceNode {
    const i = r.u32();
    const t = this.type(r, i);
    if (t.kind !== 'resource') r.fail(`type ${i} is not a resource`);
    return t;
  }

  outer(r: Reader, count: number): Scope {
    let s: Scope | undefined = this;
    for (let i = 0; i < count; i++) s = s?.parent;
    return s ?? r.fail(`outer alias ${count} levels up has no such component`);
  }
}

function defType(r: Reader, s: Scope): TypeNode {
  const op = r.peek();
  if (PRIMITIVES[op]) return s.valType(r);
  r.u8();
  switch (op) {
    case 0x72: return { kind: 'record', fields: Array.from({ length: r.count(2) }, () => [r.name(), s.valType(r)] as [string, ValNode]) };
    case 0x71: return {
      kind: 'variant',
      cases: Array.from({ length: r.count(3) }, () => {
        const c: [string, ValNode | undefined] = [r.name(), r.optional(() => s.valType(r))];
        if (r.u8() !== 0) r.fail('variant case refinement is not supported');
        return c;
      }),
    };
    case 0x70: return { kind: 'list', elem: s.valType(r) };
    case 0x6f: return { kind: 'tuple', types: Array.from({ length: r.count() }, () => s.valType(r)) };
    case 0x6e: return { kind: 'flags', flags: Array.from({ length: r.count() }, () => r.name()) };
    case 0x6d: return { kind: 'enum', cases: Array.from({ length: r.count() }, () => r.name()) };
    case 0x6b: return { kind: 'option', type: s.valType(r) };
    case 0x6a: {
      const ok = r.optional(() => s.valType(r));
      const err = r.optional(() => s.valType(r));
      return { kind: 'result', ...(ok ? { ok } : {}), ...(err ? { err } : {}) };
    }
    case 0x69: return { kind: 'own', resource: s.resource(r) };
    case 0x68: return { kind: 'borrow', resource: s.resource(r) };
    case 0x40: return funcType(r, s);
    case 0x3f: {
      if (r.u8() !== 0x7f) r.fail('resource representation must be i32');
      r.optional(() => r.u32());
      return { kind: 'resource' };
    }
    case 0x42: return { kind: 'instance', exports: declarations(r, s, false) };
    case 0x41: declarations(r, s, true); return { kind: 'component-type' };
    default: return r.fail(`unsupported type constructor 0x${op.toString(16)} (async and other post-0.2 component features are not supported)`);
  }
}

function funcType(r: Reader, s: Scope): FuncTypeNode {
  const params = Array.from({ length: r.count(2) }, () => [r.name(), s.valType(r)] as [string, ValNode]);
  const tag = r.u8();
  if (tag === 0x00) return { kind: 'func', params, result: s.valType(r) };
  if (tag !== 0x01) r.fail('bad function result list');
  const named = r.count(2);
  if (named > 1) r.fail('functions with several named results are not supported');
  if (named === 0) return { kind: 'func', params };
  r.name();
  return { kind: 'func', params, result: s.valType(r) };
}

/** An instance or component type's declarations, in their own type index space; returns the exports. */
function declarations(r: Reader, outer: Scope, component: boolean): Map<string, Entity> {
  const s = new Scope(outer, outer.depth + 1, outer.budget);
  if (s.depth > MAX_COMPONENT_DEPTH) r.fail(`types nested more than ${MAX_COMPONENT_DEPTH} deep`);
  const exports = new Map<string, Entity>();
  for (let n = r.count(2); n > 0; n--) {
    s.step(r);
    const tag = r.u8();
    if (tag === 0x01) s.types.push(defType(r, s));
    else if (tag === 0x02) alias(r, s);
    else if (tag === 0x04 || (tag === 0x03 && component)) {
      const name = r.externName();
      const e = externDesc(r, s);
      if (tag === 0x04) exports.set(name, e);
      if (e.sort === 'type') s.types.push(e.type);
    } else r.fail(`unsupported declaration 0x${tag.toString(16)} in an ${component ? 'component' : 'instance'} type`);
  }
  return exports;
}

function externDesc(r: Reader, s: Scope): Entity {
  const tag = r.u8();
  switch (tag) {
    case 0x00: r.u8(); r.u32(); return { sort: 'other' };
    case 0x01: {
      const i = r.u32();
      const t = s.type(r, i);
      if (t.kind !== 'func') r.fail(`type ${i} is not a function type`);
      return { sort: 'func', type: t };
    }
    case 0x02: r.fail('value imports and exports are not supported');
    // eslint-disable-next-line no-fallthrough
    case 0x03: {
      const bound = r.u8();
      if (bound === 0x00) return { sort: 'type', type: s.type(r, r.u32()) };
      if (bound === 0x01) return { sort: 'type', type: { kind: 'resource' } };
      return r.fail('bad type bound');
    }
    case 0x04: case 0x05: {
      const i = r.u32();
      const t = s.type(r, i);
      if (t.kind === 'instance') return { sort: 'instance', instance: { kind: 'instance', exports: new Map(t.exports) } };
      if (t.kind === 'component-type') return { sort: 'component', component: t };
      return r.fail(`type ${i} is not an instance or component type`);
    }
    default: return r.fail(`bad extern descriptor 0x${tag.toString(16)}`);
  }
}

/** Adds an entity to the index space its sort names. */
function push(r: Reader, s: Scope, e: Entity): void {
  switch (e.sort) {
    case 'type': s.types.push(e.type); break;
    case 'func': s.funcs.push(e); break;
    case 'instance': s.instances.push(e.instance); break;
    case 'component': s.components.push(e.component); break;
    default: break;
  }
  void r;
}

function sortOf(r: Reader): number {
  const sort = r.u8();
  if (sort === SORT_CORE) return 0x100 | r.u8();
  if (sort > SORT_INSTANCE) r.fail(`bad sort 0x${sort.toString(16)}`);
  return sort;
}

function entityAt(r: Reader, s: Scope, sort: number, i: number): Entity {
  switch (sort) {
    case SORT_FUNC: return s.funcs[i] ?? r.fail(`function index ${i} out of range`);
    case SORT_TYPE: return { sort: 'type', type: s.type(r, i) };
    case SORT_INSTANCE: return { sort: 'instance', instance: s.instances[i] ?? r.fail(`instance index ${i} out of range`) };
    case SORT_COMPONENT: return { sort: 'component', component: s.components[i] ?? r.fail(`component index ${i} out of range`) };
    case SORT_VALUE: return r.fail('values are not supported');
    default: return { sort: 'other' };
  }
}

function alias(r: Reader, s: Scope): void {
  const sort = sortOf(r);
  const target = r.u8();
  if (target === 0x00) {
    const inst = s.instances[r.u32()] ?? r.fail('alias of an instance index out of range');
    const name = r.name();
    const e = inst.exports.get(name) ?? r.fail(`alias of '${name}', which the instance does not export`);
    push(r, s, e);
  } else if (target === 0x01) {
    const instance = r.u32();
    const name = r.name();
    if (sort === (0x100 | CORE_FUNC)) s.coreFuncs.push(s.coreInstances[instance] && 'module' in s.coreInstances[instance]! ? { coreInstance: instance, coreName: name, utf8: true } : undefined);
    else if (sort === (0x100 | CORE_MODULE)) s.coreModules++;
    else if (sort === (0x100 | CORE_INSTANCE)) s.coreInstances.push({ inline: true });
  } else if (target === 0x02) {
    const up = s.outer(r, r.u32());
    const i = r.u32();
    if (sort === SORT_TYPE) s.types.push(up.type(r, i));
    else if (sort === SORT_COMPONENT) s.components.push(up.components[i] ?? r.fail(`outer component ${i} out of range`));
    else if (sort === (0x100 | CORE_MODULE)) s.coreModules++;
  } else r.fail(`bad alias target 0x${target.toString(16)}`);
}

function canon(r: Reader, s: Scope): void {
  const op = r.u8();
  if (op === 0x00) {
    if (r.u8() !== 0x00) r.fail('canon lift of a non-function');
    const core = r.u32();
    const utf8 = canonOptions(r);
    const ft = s.type(r, r.u32());
    if (ft.kind !== 'func') r.fail('canon lift with a type that is not a function type');
    const target = s.coreFuncs[core];
    s.funcs.push({ sort: 'func', type: ft, ...(target ? { lift: { ...target, utf8 } } : {}) });
  } else if (op === 0x01) {
    if (r.u8() !== 0x00) r.fail('canon lower of a non-function');
    r.u32();
    canonOptions(r);
    s.coreFuncs.push(undefined);
  } else if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x07) {
    r.u32();
    s.coreFuncs.push(undefined);
  } else r.fail(`unsupported canonical built-in 0x${op.toString(16)} (async and thread built-ins are not supported)`);
}

/** Reads canonical options; returns whether strings cross as UTF-8 (the default). */
function canonOptions(r: Reader): boolean {
  let utf8 = true;
  for (let n = r.count(); n > 0; n--) {
    const o = r.u8();
    if (o === 0x01 || o === 0x02) utf8 = false;
    else if (o === 0x03 || o === 0x04 || o === 0x05 || o === 0x07) r.u32();
    else if (o !== 0x00 && o !== 0x06) r.fail(`unsupported canonical option 0x${o.toString(16)}`);
  }
  return utf8;
}

function instance(r: Reader, s: Scope, bytes: Uint8Array): InstanceNode {
  const tag = r.u8();
  if (tag === 0x00) {
    const c = s.components[r.u32()] ?? r.fail('instantiation of a component index out of range');
    const args = new Map<string, Entity>();
    for (let n = r.count(2); n > 0; n--) {
      const name = r.name();
      const sort = sortOf(r);
      args.set(name, entityAt(r, s, sort, r.u32()));
    }
    if (c.kind !== 'component') r.fail('instantiation of an imported component is not supported');
    const inner = new Scope(c.parent as Scope, (c.parent as Scope).depth + 1, s.budget);
    if (inner.depth > MAX_COMPONENT_DEPTH) r.fail(`components nested more than ${MAX_COMPONENT_DEPTH} deep`);
    const out = body(new Reader(bytes, c.start, c.end), inner, args, bytes);
    return { kind: 'instance', exports: new Map(out.exports) };
  }
  if (tag !== 0x01) r.fail(`bad instance form 0x${tag.toString(16)}`);
  const exports = new Map<string, Entity>();
  for (let n = r.count(2); n > 0; n--) {
    const name = r.externName();
    const sort = sortOf(r);
    exports.set(name, entityAt(r, s, sort, r.u32()));
  }
  return { kind: 'instance', exports };
}

function coreInstance(r: Reader, s: Scope): void {
  const tag = r.u8();
  if (tag === 0x00) {
    const module = r.u32();
    for (let n = r.count(3); n > 0; n--) { r.name(); if (r.u8() !== CORE_INSTANCE) r.fail('core instantiation argument is not an instance'); r.u32(); }
    s.coreInstances.push({ module });
  } else if (tag === 0x01) {
    for (let n = r.count(3); n > 0; n--) { r.name(); r.u8(); r.u32(); }
    s.coreInstances.push({ inline: true });
  } else r.fail(`bad core instance form 0x${tag.toString(16)}`);
}

function exportItem(r: Reader, s: Scope, out: [string, Entity][]): void {
  const name = r.externName();
  const sort = sortOf(r);
  const e = entityAt(r, s, sort, r.u32());
  const ascribed = r.optional(() => externDesc(r, s));
  // An ascribed function type names the types the exporter chose; the code is still the lifted function.
  const typed: Entity = ascribed?.sort === 'func' && e.sort === 'func' ? { ...e, type: ascribed.type } : ascribed?.sort === 'instance' ? ascribed : e;
  push(r, s, typed);
  out.push([name, typed]);
}

/** Evaluates one component body from after its 8-byte preamble. */
function body(r: Reader, s: Scope, args: Map<string, Entity> | undefined, bytes: Uint8Array): Evaluated {
  if (r.end - r.pos < 8 || r.bytes[r.pos + 6] !== 1) r.fail('nested item is not a component');
  r.pos += 8;
  const out: Evaluated = { imports: [], exports: [], coreModules: 0, coreInstances: s.coreInstances };
  while (!r.done) {
    const id = r.u8();
    const size = r.u32();
    const end = r.pos + size;
    if (end > r.end) r.fail(`section ${id} runs past the end`);
    const sec = new Reader(bytes, r.pos, end);
    const each = (f: () => void): void => { for (let n = sec.count(); n > 0; n--) { s.step(sec); f(); } };
    switch (id) {
      case 1: s.coreModules++; break;
      case 2: each(() => coreInstance(sec, s)); break;
      case 4: s.components.push({ kind: 'component', start: sec.pos, end, parent: s }); break;
      case 5: each(() => s.instances.push(instance(sec, s, bytes))); break;
      case 6: each(() => alias(sec, s)); break;
      case 7: each(() => s.types.push(defType(sec, s))); break;
      case 8: each(() => canon(sec, s)); break;
      case 10: each(() => {
        const name = sec.externName();
        const declared = externDesc(sec, s);
        const e = args?.get(name) ?? declared;
        push(sec, s, e);
        out.imports.push([name, e]);
      }); break;
      case 11: each(() => exportItem(sec, s, out.exports)); break;
      default: break; // custom, core types, start, values: no component-level types
    }
    if (id !== 1 && id !== 4 && id !== 0 && id !== 3 && id !== 9 && id !== 12 && !sec.done) sec.fail(`trailing bytes in section ${id}`);
    r.pos = end;
  }
  out.coreModules = s.coreModules;
  return out;
}

/** Evaluates a whole component binary. Throws `ComponentError` when it cannot be read. */
export function evaluateComponent(bytes: Uint8Array): Evaluated {
  const s = new Scope(undefined, 0, { left: MAX_DEFINITIONS });
  try {
    return body(new Reader(bytes, 0, bytes.length), s, undefined, bytes);
  } catch (e) {
    if (e instanceof ComponentError) throw e;
    throw new ComponentError(`malformed component: ${(e as Error).message}`, { cause: e });
  }
}
