/**
 * Generates the AssemblyScript entry file that adapts a user's ordinary
 * exports to the canonical ABI: lifting arguments out of flat values and
 * linear memory, lowering results, post-return, and resource handle tables.
 * Generated export names are placeholders; `rename.ts` gives them their
 * canonical names after compilation (AssemblyScript cannot spell them).
 *
 * Longer than 400 lines because it is one emitter with a case for every WIT
 * type form, lifting and lowering side by side.
 */
import {
  alignOf, callShape, casesOf, discriminantSize, fieldOffsets, flagsWords, flatten, payloadOffset, sizeOf,
  type CoreType,
} from '../abi/layout.js';
import {
  camelCase, coreDtorName, coreExportName, corePostReturnName, pascalCase, resourceIntrinsicModule,
} from '../abi/names.js';
import type { FuncDef, ResolvedWorld, ResourceDef, WitType } from '../wit/types.js';
import { asType, isReference, isSdkType, optionIsNullable, typedArrayOf } from './astypes.js';

export interface Glue {
  /** AssemblyScript source of the entry module. */
  source: string;
  /** Placeholder export name -> canonical core export name. */
  renames: Map<string, string>;
}

const LOAD: Record<string, string> = {
  bool: 'u8', s8: 'i8', u8: 'u8', s16: 'i16', u16: 'u16', s32: 'i32', u32: 'u32', s64: 'i64', u64: 'u64', f32: 'f32', f64: 'f64',
};

function discType(n: number): string {
  return ({ 1: 'u8', 2: 'u16', 4: 'u32' } as const)[discriminantSize(n)];
}

/** A cursor over a wrapper's flat parameters. */
interface FlatCursor { names: string[]; types: CoreType[]; i: number }

class GlueWriter {
  private readonly helpers: string[] = [];
  private readonly helperIds = new Map<string, string>();
  private readonly userNames = new Set<string>();
  private readonly resources = new Map<string, number>();
  private readonly body: string[] = [];
  readonly renames = new Map<string, string>();
  private retAreaSize = 8;
  private n = 0;

  constructor(private readonly userModule: string) {}

  /** The user type name used by `t`, recorded so the entry imports it. */
  private ty(t: WitType): string {
    this.collectUserNames(t);
    return asType(t);
  }

  private collectUserNames(t: WitType): void {
    switch (t.kind) {
      case 'record':
        // Records of tsray:runtime (ActorHandle) come from the SDK, not the user's file.
        if (!isSdkType(t)) this.userNames.add(pascalCase(t.name));
        t.fields.forEach((f) => this.collectUserNames(f.type));
        break;
      case 'variant': this.userNames.add(pascalCase(t.name)); t.cases.forEach((c) => c.type && this.collectUserNames(c.type)); break;
      case 'flags': case 'enum': this.userNames.add(pascalCase(t.name)); break;
      case 'own': case 'borrow': this.userNames.add(pascalCase(t.resource.name)); break;
      case 'list': this.collectUserNames(t.elem); break;
      case 'option': this.collectUserNames(t.type); break;
      case 'tuple': t.types.forEach((x) => this.collectUserNames(x)); break;
      case 'result': if (t.ok) this.collectUserNames(t.ok); if (t.err) this.collectUserNames(t.err); break;
    }
  }

  /** Emits a helper once per (purpose, type) and returns its name. */
  private helper(kind: string, t: WitType, make: (name: string) => string): string {
    const key = `${kind}:${JSON.stringify(t, (k, v) => (k === 'owner' ? undefined : v))}`;
    let name = this.helperIds.get(key);
    if (!name) {
      name = `__${kind}${this.helperIds.size}`;
      this.helperIds.set(key, name);
      this.helpers.push(make(name));
    }
    return name;
  }

  private resourceIndex(r: ResourceDef): number {
    const key = `${r.owner}/${r.name}`;
    let i = this.resources.get(key);
    if (i === undefined) {
      i = this.resources.size;
      this.resources.set(key, i);
      const cls = pascalCase(r.name);
      this.userNames.add(cls);
      const mod = resourceIntrinsicModule(r.owner);
      this.helpers.push([
        `@external(${JSON.stringify(mod)}, ${JSON.stringify(`[resource-new]${r.name}`)}) declare function __resNew${i}(rep: i32): i32;`,
        `@external(${JSON.stringify(mod)}, ${JSON.stringify(`[resource-rep]${r.name}`)}) declare function __resRep${i}(handle: i32): i32;`,
        `const __table${i} = new Array<${cls} | null>();`,
        `const __free${i} = new Array<i32>();`,
        `function __own${i}(o: ${cls}): i32 {`,
        `  let rep: i32;`,
        `  if (__free${i}.length > 0) { rep = __free${i}.pop(); __table${i}[rep - 1] = o; }`,
        `  else { __table${i}.push(o); rep = __table${i}.length; }`,
        `  return __resNew${i}(rep);`,
        `}`,
        `function __rep${i}(rep: i32): ${cls} { return __table${i}[rep - 1]!; }`,
        `export function __tsray_dtor${i}(rep: i32): void { __table${i}[rep - 1] = null; __free${i}.push(rep); }`,
      ].join('\n'));
      this.renames.set(`__tsray_dtor${i}`, coreDtorName(r.owner, r.name));
    }
    return i;
  }

  // ---- lifting: host values -> AssemblyScript values -------------------------------------

  private liftString(ptr: string, len: string): string {
    return `(${len} == 0 ? "" : String.UTF8.decodeUnsafe(${ptr}, ${len}))`;
  }

  private liftList(t: WitType & { kind: 'list' }, ptr: string, len: string): string {
    const typed = typedArrayOf(t);
    if (typed) return `(${len} == 0 ? new ${typed}(0) : ${typed}.wrap(changetype<ArrayBuffer>(${ptr}), 0, <i32>${len}))`;
    const name = this.helper('liftList', t, (h) => {
      const el = this.ty(t.elem);
      return `function ${h}(ptr: usize, len: usize): Array<${el}> {\n` +
        `  const out = new Array<${el}>();\n` +
        `  for (let i: usize = 0; i < len; i++) out.push(${this.load(t.elem, `ptr + i * ${sizeOf(t.elem)}`)});\n` +
        `  return out;\n}`;
    });
    return `${name}(${ptr}, ${len})`;
  }

  /** Expression lifting `t` from flat values at the cursor. */
  private liftFlat(t: WitType, cur: FlatCursor): string {
    const take = (): string => cur.names[cur.i++]!;
    switch (t.kind) {
      case 'bool': return `(${take()} != 0)`;
      case 's8': case 'u8': case 's16': case 'u16': case 'u32': case 'u64': return `<${LOAD[t.kind]}>${take()}`;
      case 's32': case 's64': case 'f32': case 'f64': return take();
      case 'char': return `String.fromCodePoint(${take()})`;
      case 'string': { const p = take(); return this.liftString(p, take()); }
      case 'list': { const p = take(); return this.liftList(t, p, take()); }
      case 'enum': return `<${this.ty(t)}>${take()}`;
      case 'own': return `__rep${this.resourceIndex(t.resource)}(__resRep${this.resourceIndex(t.resource)}(${take()}))`;
      case 'borrow': return `__rep${this.resourceIndex(t.resource)}(${take()})`;
      default: {
        // Composite types go through a helper taking exactly their flat values.
        const flat = flatten(t);
        const args = flat.map(() => take());
        const name = this.helper('liftFlat', t, (h) => {
          const params = flat.map((ct, i) => `a${i}: ${ct}`).join(', ');
          const inner: FlatCursor = { names: flat.map((_, i) => `a${i}`), types: flat, i: 0 };
          return `function ${h}(${params}): ${this.ty(t)} {\n${this.liftCompositeFlat(t, inner)}\n}`;
        });
        return `${name}(${args.join(', ')})`;
      }
    }
  }

  private liftCompositeFlat(t: WitType, cur: FlatCursor): string {
    const T = this.ty(t);
    switch (t.kind) {
      case 'record':
        return this.buildObject(T, t.fields.map((f) => [camelCase(f.name), this.liftFlat(f.type, cur)]));
      case 'tuple':
        return `  return new ${T}(${t.types.map((x) => this.liftFlat(x, cur)).join(', ')});`;
      case 'flags':
        return this.buildObject(T, t.flags.map((f, i) => [camelCase(f), `(${cur.names[Math.floor(i / 32)]} & ${1 << i % 32}) != 0`]));
      default: {
        // variant, option, result: switch on the discriminant, convert joined payload slots back.
        const cases = casesOf(t);
        const lines = ['  switch (a0) {'];
        cases.forEach((c, i) => {
          const ct = c ? flatten(c) : [];
          const names = ct.map((want, j) => coerceFromJoined(`a${j + 1}`, cur.types[j + 1]!, want));
          const payload = c ? this.liftFlat(c, { names, types: ct, i: 0 }) : undefined;
          lines.push(`    case ${i}: ${this.makeCase(t, i, payload)}`);
        });
        lines.push('  }', '  unreachable();', `  return changetype<${T}>(0);`);
        return lines.join('\n');
      }
    }
  }

  private buildObject(T: string, fields: [string, string][]): string {
    return `  const o = changetype<${T}>(__new(offsetof<${T}>(), idof<${T}>()));\n` +
      fields.map(([k, v]) => `  o.${k} = ${v};`).join('\n') + '\n  return o;';
  }

  /** A `return` statement building case `i` of a variant-like type from its payload expression. */
  private makeCase(t: WitType, i: number, payload: string | undefined): string {
    const T = this.ty(t);
    switch (t.kind) {
      case 'option':
        if (optionIsNullable(t)) return i === 0 ? 'return null;' : `return ${payload};`;
        return i === 0 ? `return Option.none<${this.ty(t.type)}>();` : `return Option.some<${this.ty(t.type)}>(${payload});`;
      case 'result': {
        const ok = t.ok ? this.ty(t.ok) : 'Unit';
        const er = t.err ? this.ty(t.err) : 'Unit';
        const v = payload ?? 'new Unit()';
        return i === 0 ? `return ok<${ok}, ${er}>(${v});` : `return err<${ok}, ${er}>(${v});`;
      }
      case 'variant': {
        const c = t.cases[i]!;
        const set = payload ? ` o.${camelCase(c.name)} = ${payload};` : '';
        return `{ const o = changetype<${T}>(__new(offsetof<${T}>(), idof<${T}>())); o.tag = ${i};${set} return o; }`;
      }
      default: throw new Error(`not a variant: ${t.kind}`);
    }
  }

  /** Expression loading `t` from linear memory at `ptr`. */
  private load(t: WitType, ptr: string): string {
    switch (t.kind) {
      case 'bool': return `(load<u8>(${ptr}) != 0)`;
      case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': case 's64': case 'u64': case 'f32': case 'f64':
        return `load<${LOAD[t.kind]}>(${ptr})`;
      case 'char': return `String.fromCodePoint(load<i32>(${ptr}))`;
      case 'string': return this.liftString(`load<u32>(${ptr})`, `load<u32>(${ptr}, 4)`);
      case 'list': return this.liftList(t, `load<u32>(${ptr})`, `load<u32>(${ptr}, 4)`);
      case 'enum': return `<${this.ty(t)}>load<${discType(t.cases.length)}>(${ptr})`;
      case 'own': return `__rep${this.resourceIndex(t.resource)}(__resRep${this.resourceIndex(t.resource)}(load<i32>(${ptr})))`;
      case 'borrow': return `__rep${this.resourceIndex(t.resource)}(load<i32>(${ptr}))`;
      default: {
        const name = this.helper('load', t, (h) => `function ${h}(p: usize): ${this.ty(t)} {\n${this.loadComposite(t)}\n}`);
        return `${name}(${ptr})`;
      }
    }
  }

  private loadComposite(t: WitType): string {
    const T = this.ty(t);
    switch (t.kind) {
      case 'record': {
        const offs = fieldOffsets(t.fields.map((f) => f.type));
        return this.buildObject(T, t.fields.map((f, i) => [camelCase(f.name), this.load(f.type, `p + ${offs[i]}`)]));
      }
      case 'tuple': {
        const offs = fieldOffsets(t.types);
        return `  return new ${T}(${t.types.map((x, i) => this.load(x, `p + ${offs[i]}`)).join(', ')});`;
      }
      case 'flags': {
        const word = (i: number): string => (t.flags.length <= 8 ? 'load<u8>(p)' : t.flags.length <= 16 ? 'load<u16>(p)' : `load<u32>(p + ${4 * Math.floor(i / 32)})`);
        return this.buildObject(T, t.flags.map((f, i) => [camelCase(f), `(${word(i)} & ${1 << i % 32}) != 0`]));
      }
      default: {
        const cases = casesOf(t);
        const off = payloadOffset(t);
        const lines = [`  switch (load<${discType(cases.length)}>(p)) {`];
        cases.forEach((c, i) => lines.push(`    case ${i}: ${this.makeCase(t, i, c ? this.load(c, `p + ${off}`) : undefined)}`));
        lines.push('  }', '  unreachable();', `  return changetype<${T}>(0);`);
        return lines.join('\n');
      }
    }
  }

  // ---- lowering: AssemblyScript values -> host ------------------------------------------

  /** Expression giving the one flat value of a result whose flattening is a single core value. */
  private lowerFlat1(t: WitType, v: string): string {
    switch (t.kind) {
      case 'bool': return `(${v} ? 1 : 0)`;
      case 's8': case 'u8': case 's16': case 'u16': case 'u32': return `<i32>${v}`;
      case 'u64': return `<i64>${v}`;
      case 's32': case 's64': case 'f32': case 'f64': return v;
      case 'char': return `${v}.codePointAt(0)`;
      case 'enum': return `<i32>${v}`;
      case 'own': return `__own${this.resourceIndex(t.resource)}(${v})`;
      case 'flags': {
        const name = this.helper('flagsWord', t, (h) => `function ${h}(v: ${this.ty(t)}): i32 {\n  let w = 0;\n` +
          t.flags.map((f, i) => `  if (v.${camelCase(f)}) w |= ${1 << i};`).join('\n') + '\n  return w;\n}');
        return `${name}(${v})`;
      }
      case 'variant': return `<i32>${v}.tag`;
      default: throw new Error(`${t.kind} does not flatten to one value`);
    }
  }

  /** Statements storing `v` of type `t` at `ptr`. */
  private store(t: WitType, v: string, ptr: string): string {
    switch (t.kind) {
      case 'bool': return `store<u8>(${ptr}, ${v} ? 1 : 0);`;
      case 's8': case 'u8': case 's16': case 'u16': case 's32': case 'u32': case 's64': case 'u64': case 'f32': case 'f64':
        return `store<${LOAD[t.kind]}>(${ptr}, ${v});`;
      case 'char': return `store<i32>(${ptr}, ${v}.codePointAt(0));`;
      case 'enum': return `store<${discType(t.cases.length)}>(${ptr}, <${discType(t.cases.length)}>${v});`;
      case 'own': return `store<i32>(${ptr}, __own${this.resourceIndex(t.resource)}(${v}));`;
      case 'borrow': throw new Error('a borrow cannot be returned');
      default: {
        const name = this.helper('store', t, (h) => `function ${h}(v: ${this.ty(t)}, p: usize): void {\n${this.storeComposite(t)}\n}`);
        return `${name}(${v}, ${ptr});`;
      }
    }
  }

  private storeComposite(t: WitType): string {
    switch (t.kind) {
      case 'string':
        return '  const b = String.UTF8.encode(v);\n  store<u32>(p, keepAlive(b));\n  store<u32>(p, b.byteLength, 4);';
      case 'list': {
        if (typedArrayOf(t)) return '  keepAlive(v.buffer);\n  store<u32>(p, v.dataStart);\n  store<u32>(p, v.length, 4);';
        const size = sizeOf(t.elem);
        return `  const b = changetype<ArrayBuffer>(__new(<usize>v.length * ${size}, idof<ArrayBuffer>()));\n` +
          '  const base = keepAlive(b);\n' +
          `  for (let i = 0; i < v.length; i++) { ${this.store(t.elem, 'v[i]', `base + <usize>i * ${size}`)} }\n` +
          '  store<u32>(p, base);\n  store<u32>(p, v.length, 4);';
      }
      case 'record': {
        const offs = fieldOffsets(t.fields.map((f) => f.type));
        return t.fields.map((f, i) => '  ' + this.store(f.type, `v.${camelCase(f.name)}`, `p + ${offs[i]}`)).join('\n');
      }
      case 'tuple': {
        const offs = fieldOffsets(t.types);
        return t.types.map((x, i) => '  ' + this.store(x, `v.t${i}`, `p + ${offs[i]}`)).join('\n');
      }
      case 'flags': {
        const words = flagsWords(t.flags.length);
        const W = t.flags.length <= 8 ? 'u8' : t.flags.length <= 16 ? 'u16' : 'u32';
        const lines: string[] = [];
        for (let w = 0; w < words; w++) {
          lines.push(`  let w${w}: u32 = 0;`);
          t.flags.slice(w * 32, w * 32 + 32).forEach((f, i) => lines.push(`  if (v.${camelCase(f)}) w${w} |= ${(1 << i) >>> 0};`));
          lines.push(`  store<${W}>(p + ${4 * w}, <${W}>w${w});`);
        }
        return lines.join('\n');
      }
      default: {
        const cases = casesOf(t);
        const D = discType(cases.length);
        const off = payloadOffset(t);
        const arm = (i: number, value: string | undefined): string =>
          `store<${D}>(p, ${i});${cases[i] && value ? ' ' + this.store(cases[i]!, value, `p + ${off}`) : ''}`;
        if (t.kind === 'option') {
          const some = optionIsNullable(t) ? `changetype<${this.ty(t.type)}>(v)` : 'v.value';
          const test = optionIsNullable(t) ? 'v === null' : '!v.isSome';
          return `  if (${test}) { ${arm(0, undefined)} } else { ${arm(1, some)} }`;
        }
        if (t.kind === 'result') return `  if (v.isOk) { ${arm(0, 'v.value')} } else { ${arm(1, 'v.error')} }`;
        const v = t as WitType & { kind: 'variant' };
        return `  switch (v.tag) {\n` +
          v.cases.map((c, i) => `    case ${i}: { ${arm(i, c.type ? `v.${camelCase(c.name)}${isReference(c.type) ? '!' : ''}` : undefined)} break; }`).join('\n') +
          `\n    default: unreachable();\n  }`;
      }
    }
  }

  // ---- export wrappers ---------------------------------------------------------------

  /** The user-side call expression for an exported function, given lifted arguments. */
  private userCall(f: FuncDef, args: string[]): string {
    const fn = camelCase(f.shortName);
    switch (f.kind) {
      case 'freestanding': this.userNames.add(fn); return `${fn}(${args.join(', ')})`;
      case 'constructor': return `new ${this.ty({ kind: 'own', resource: f.resource! })}(${args.join(', ')})`;
      case 'method': return `${args[0]}.${fn}(${args.slice(1).join(', ')})`;
      case 'static': return `${this.ty({ kind: 'own', resource: f.resource! })}.${fn}(${args.join(', ')})`;
    }
  }

  addExport(iface: string | undefined, f: FuncDef): void {
    const id = this.n++;
    const shape = callShape(f);
    let params: string;
    let args: string[];
    if (shape.flatParams) {
      const cur: FlatCursor = { names: shape.flatParams.map((_, i) => `p${i}`), types: shape.flatParams, i: 0 };
      params = shape.flatParams.map((ct, i) => `p${i}: ${ct}`).join(', ');
      args = f.params.map((p) => this.liftFlat(p.type, cur));
    } else {
      const offs = fieldOffsets(f.params.map((p) => p.type));
      params = 'args: usize';
      args = f.params.map((p, i) => this.load(p.type, `args + ${offs[i]}`));
    }
    const call = this.userCall(f, args);
    const lines: string[] = [];
    if (f.result === undefined) {
      lines.push(`export function __tsray_e${id}(${params}): void {`, `  ${call};`, '}');
    } else if (shape.flatResult === null) {
      this.retAreaSize = Math.max(this.retAreaSize, sizeOf(f.result) + alignOf(f.result));
      lines.push(`export function __tsray_e${id}(${params}): usize {`, `  const r = ${call};`, `  ${this.store(f.result, 'r', '__RET')}`, '  return __RET;', '}');
    } else {
      const result = f.kind === 'constructor' ? `__own${this.resourceIndex(f.resource!)}(${call})` : this.lowerFlat1(f.result, call);
      lines.push(`export function __tsray_e${id}(${params}): ${shape.flatResult} {`, `  return ${result};`, '}');
    }
    const post = shape.flatResult === undefined ? '' : `r: ${shape.flatResult ?? 'i32'}`;
    lines.push(`export function __tsray_post${id}(${post}): void { releaseCall(); }`);
    this.body.push(lines.join('\n'));
    this.renames.set(`__tsray_e${id}`, coreExportName(iface, f));
    this.renames.set(`__tsray_post${id}`, corePostReturnName(iface, f));
  }

  source(): string {
    const userNames = [...this.userNames].sort();
    return [
      '// Generated by tsray build: canonical-ABI glue for the exports of ' + this.userModule + '. Do not edit.',
      userNames.length ? `import { ${userNames.join(', ')} } from ${JSON.stringify(this.userModule)};` : '',
      'import { Option, Result, Unit, ok, err, Tuple2, Tuple3, Tuple4, Tuple5, Tuple6, ActorHandle, ObjectRef, keepAlive, releaseCall } from "tsray";',
      'export { cabi_realloc } from "tsray";',
      `const __RET: usize = heap.alloc(${this.retAreaSize});`,
      ...this.helpers,
      ...this.body,
      '',
    ].join('\n\n');
  }
}

/** Returns the value of joined slot `name` (of core type `have`) as core type `want`. */
function coerceFromJoined(name: string, have: CoreType, want: CoreType): string {
  if (have === want) return name;
  if (want === 'i32' && have === 'i64') return `<i32>${name}`;
  if (want === 'f32' && have === 'i32') return `reinterpret<f32>(${name})`;
  if (want === 'f32' && have === 'i64') return `reinterpret<f32>(<i32>${name})`;
  if (want === 'f64' && have === 'i64') return `reinterpret<f64>(${name})`;
  throw new Error(`cannot carry ${want} in ${have}`);
}

/** Generates the glue entry for every export of `world`. `userModule` is the import path of the user's file. */
export function generateGlue(world: ResolvedWorld, userModule: string): Glue {
  const w = new GlueWriter(userModule);
  for (const item of world.exports) {
    if (item.kind === 'func') w.addExport(undefined, item.func);
    else for (const f of item.iface.funcs) w.addExport(item.name, f);
  }
  return { source: w.source(), renames: w.renames };
}
