/**
 * A TypeScript declaration file for a component's exports, so a driver is
 * typed by its WIT: `tsray build -o x.wasm` writes `x.d.ts`, `tsray types`
 * writes one for any component. It exports a `Component` interface that
 * `tsray.load<Component>(path)` takes (see host/api/typing.ts for its shape).
 *
 * Types are the JavaScript values `get` returns (host/engine/codec.ts; a
 * function's top-level result<T, E> gives T, its err is thrown):
 * s64/u64 -> bigint, list of a number kind -> its typed array, record ->
 * object with camelCase fields, variant/result -> `{ tag, val }`, enum -> its
 * case names, flags -> object of booleans, option -> value or undefined (an
 * option directly inside an option is `{ tag: 'some', val }` / `{ tag: 'none' }`).
 * The runtime widens parameters to what `.remote()` accepts (`Input<T>`).
 */
import { camelCase, pascalCase } from '../abi/names.js';
import { describeFunc, describeType } from '../wit/describe.js';
import { ROOT, type FuncDef, type ResolvedWorld, type ResourceDef, type WitType } from '../wit/types.js';

const TYPED_ARRAYS: Record<string, string> = {
  s8: 'Int8Array', u8: 'Uint8Array', s16: 'Int16Array', u16: 'Uint16Array', s32: 'Int32Array', u32: 'Uint32Array',
  s64: 'BigInt64Array', u64: 'BigUint64Array', f32: 'Float32Array', f64: 'Float64Array',
};

const SCALARS: Record<string, string> = {
  bool: 'boolean', s8: 'number', u8: 'number', s16: 'number', u16: 'number', s32: 'number', u32: 'number',
  s64: 'bigint', u64: 'bigint', f32: 'number', f64: 'number', char: 'string', string: 'string',
};

/** Words a parameter may not be named in TypeScript. */
const RESERVED = new Set(('break case catch class const continue debugger default delete do else enum export extends false finally for function '
  + 'if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements '
  + 'interface package private protected public await').split(' '));

/** Names `Component` and the generated helpers use themselves. */
const TAKEN = ['Component', 'ActorHandle', 'ObjectRef'];

/** Where a type appears: a parameter (what a driver passes), or anywhere else (what `get` returns). */
type Position = 'param' | 'value';

/** A property key: bare when it is an identifier, quoted otherwise. */
function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : str(name);
}

/** A single-quoted string literal. */
function str(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function paramName(name: string): string {
  const n = camelCase(name);
  return RESERVED.has(n) ? `${n}_` : n;
}

function isActorHandle(t: WitType): boolean {
  return t.kind === 'record' && t.name === 'actor-handle' && t.owner === 'tsray:runtime/actors';
}

/** The declarations being written: named types first, then `Component`. */
class Writer {
  private readonly decls: string[] = [];
  /** Named WIT types already declared, by identity, with their TypeScript name. */
  private readonly named = new Map<WitType, string>();
  /** Declared TypeScript names, with the body each stands for (same body: same declaration). */
  private readonly bodies = new Map<string, string>(TAKEN.map((n) => [n, '']));
  usesActorHandle = false;
  usesObjectRef = false;

  type(t: WitType, pos: Position, taggedOption = false): string {
    if (taggedOption && t.kind === 'option') {
      return `{ tag: 'none' } | { tag: 'some'; val: ${this.type(t.type, pos, t.type.kind === 'option')} }`;
    }
    const scalar = SCALARS[t.kind];
    if (scalar) return scalar;
    switch (t.kind) {
      case 'list': {
        const typed = TYPED_ARRAYS[t.elem.kind];
        if (typed) return typed;
        const el = this.type(t.elem, pos);
        return /^[\w$.]+$/.test(el) ? `${el}[]` : `Array<${el}>`;
      }
      case 'tuple': return `[${t.types.map((x) => this.type(x, pos)).join(', ')}]`;
      case 'option': return `${this.type(t.type, pos, t.type.kind === 'option')} | undefined`;
      case 'result': return this.cases([{ name: 'ok', type: t.ok }, { name: 'err', type: t.err }], pos);
      case 'own': case 'borrow':
        // A driver holds no handles of a component's own resources: none passes the check, and none comes back usable.
        return pos === 'param' ? 'never' : 'unknown';
      case 'record':
        if (isActorHandle(t)) {
          if (pos === 'param') { this.usesActorHandle = true; return 'ActorHandle'; }
          return '{ id: string }';
        }
        // An object-ref is the ref itself, passed and returned as an ObjectRef.
        if (t.name === 'object-ref' && (t.owner ?? '').startsWith('tsray:runtime/objects')) { this.usesObjectRef = true; return 'ObjectRef'; }
        return this.declare(t, () => `{\n${t.fields.map((f) => `  ${key(camelCase(f.name))}: ${this.type(f.type, 'value')};\n`).join('')}}`, true);
      case 'variant': return this.declare(t, () => this.cases(t.cases, 'value'));
      case 'enum': return this.declare(t, () => (t.cases.length ? t.cases.map(str).join(' | ') : 'never'));
      case 'flags': return this.declare(t, () => `{\n${t.flags.map((f) => `  ${key(camelCase(f))}?: boolean;\n`).join('')}}`, true);
      default: return 'unknown';
    }
  }

  private cases(cases: { name: string; type?: WitType | undefined }[], pos: Position): string {
    if (cases.length === 0) return 'never';
    return cases.map((c) => (c.type ? `{ tag: ${str(c.name)}; val: ${this.type(c.type, pos)} }` : `{ tag: ${str(c.name)} }`)).join(' | ');
  }

  /** Declares a named WIT type once (as an interface when `object`), returning its TypeScript name. */
  private declare(t: WitType & { name: string }, body: () => string, object = false): string {
    const seen = this.named.get(t);
    if (seen) return seen;
    const text = body();
    const base = pascalCase(t.name);
    let name = base;
    for (let i = 2; this.bodies.has(name) && this.bodies.get(name) !== text; i++) name = `${base}${i}`;
    this.named.set(t, name);
    if (!this.bodies.has(name)) {
      this.bodies.set(name, text);
      const doc = `/** WIT ${t.kind} \`${describeType(t)}\`. */\n`;
      this.decls.push(object ? `${doc}export interface ${name} ${text}\n` : `${doc}export type ${name} = ${text};\n`);
    }
    return name;
  }

  /** `name(params): result;` for a function (a method's `self` left out). */
  signature(f: FuncDef, name: string, indent: string): string {
    const params = (f.kind === 'method' ? f.params.slice(1) : f.params).map((p) => `${paramName(p.name)}: ${this.type(p.type, 'param')}`);
    // A top-level result is unwrapped: `get` gives the ok value, and an err is thrown (a TaskError with the err as payload).
    const r = f.kind === 'constructor' ? undefined : f.result?.kind === 'result' ? f.result.ok : f.result;
    const result = r ? this.type(r, 'value') : 'void';
    return `${indent}/** \`${describeFunc(f)}\` */\n${indent}${key(name)}(${params.join(', ')}): ${result};\n`;
  }

  /** A name for a new declaration that no type took. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.bodies.has(name); i++) name = `${base}${i}`;
    this.bodies.set(name, '');
    return name;
  }

  push(decl: string): void {
    this.decls.push(decl);
  }

  text(): string {
    return this.decls.join('\n');
  }
}

/** Every name a user may look an export up by (as host/component/module.ts resolves them), ambiguous ones left out. */
function lookupNames<T>(items: { item: T; names: string[] }[]): Map<string, T> {
  const count = new Map<string, number>();
  for (const { names } of items) for (const n of new Set(names)) count.set(n, (count.get(n) ?? 0) + 1);
  const out = new Map<string, T>();
  for (const { item, names } of items) for (const n of names) if (count.get(n) === 1) out.set(n, item);
  return out;
}

interface Resource { def: ResourceDef; ctor?: FuncDef; methods: FuncDef[]; statics: FuncDef[] }

/** The exported freestanding functions (with their interface) and resources of `world`. */
function exportsOf(world: ResolvedWorld): { funcs: { iface?: string; func: FuncDef }[]; resources: Resource[] } {
  const funcs: { iface?: string; func: FuncDef }[] = [];
  const resources: Resource[] = [];
  const add = (f: FuncDef, iface?: string): void => {
    const r = f.resource;
    if (!r) { funcs.push(iface === undefined ? { func: f } : { iface, func: f }); return; }
    let e = resources.find((x) => x.def.name === r.name && x.def.owner === r.owner);
    if (!e) resources.push((e = { def: r, methods: [], statics: [] }));
    if (f.kind === 'constructor') e.ctor = f;
    else if (f.kind === 'method') e.methods.push(f);
    else e.statics.push(f);
  };
  for (const item of world.exports) {
    if (item.kind === 'func') add(item.func);
    else for (const f of item.iface.funcs) add(f, item.name);
  }
  return { funcs, resources };
}

/** Where the types of the component at `out` go: `x.wasm` -> `x.d.ts`. */
export function dtsPath(out: string): string {
  return out.endsWith('.wasm') ? `${out.slice(0, -'.wasm'.length)}.d.ts` : `${out}.d.ts`;
}

export interface DtsOptions {
  /** Where the component came from, for the header comment. */
  source?: string;
}

/** The declaration file of `world`'s exports: named types, one interface per actor class, and `Component`. */
export function generateDts(world: ResolvedWorld, opts: DtsOptions = {}): string {
  const w = new Writer();
  const { funcs, resources } = exportsOf(world);

  const fnNames = lookupNames(funcs.map((x) => ({
    item: x.func,
    names: [x.func.name, camelCase(x.func.name), ...(x.iface ? [`${x.iface}#${x.func.name}`] : [])],
  })));
  let fnBody = '';
  for (const [name, f] of fnNames) fnBody += w.signature(f, name, '    ');

  // Actor classes: resources with a constructor (the runtime refuses the others).
  const actorTypes = new Map<Resource, string>();
  for (const r of resources) {
    if (!r.ctor) continue;
    const name = w.fresh(`${pascalCase(r.def.name)}Actor`);
    actorTypes.set(r, name);
    const methods = lookupNames(r.methods.map((m) => ({ item: m, names: [m.shortName, camelCase(m.shortName)] })));
    let body = w.signature(r.ctor, 'create', '  ');
    body += '  methods: {\n';
    for (const [n, m] of methods) body += w.signature(m, n, '    ');
    body += '  };\n';
    // Statics are not reachable from a driver (tasks run functions, actors run methods): listed for reference only.
    const statics = r.statics.length ? ` Static functions (not callable from a driver): ${r.statics.map((s) => s.shortName).join(', ')}.` : '';
    w.push(`/** Actor class of WIT resource \`${r.def.owner}#${r.def.name}\`: \`mod.actor('${r.def.name}')\`.${statics} */\nexport interface ${name} {\n${body}}\n`);
  }
  const actorNames = lookupNames([...actorTypes.keys()].map((r) => ({
    item: r, names: [r.def.name, camelCase(r.def.name), ...(r.def.owner === ROOT ? [] : [`${r.def.owner}#${r.def.name}`])],
  })));
  let actorBody = '';
  for (const [n, r] of actorNames) actorBody += `    ${key(n)}: ${actorTypes.get(r)!};\n`;

  const full = `${world.packageName}/${world.name}`;
  const header = [
    `// Types of the exports of component world ${full}${opts.source ? ` (${opts.source})` : ''}.`,
    '// Generated by tsray (`tsray types`, or `tsray build -o`); do not edit.',
    ...(w.usesActorHandle || w.usesObjectRef ? [`import type { ${[w.usesActorHandle ? 'ActorHandle' : '', w.usesObjectRef ? 'ObjectRef' : ''].filter(Boolean).join(', ')} } from 'tsray';`] : []),
    '',
  ].join('\n');
  const component = [
    `/** The exports of \`${full}\`, for \`tsray.load<Component>(path)\`. */`,
    'export interface Component {',
    fnBody ? `  functions: {\n${fnBody}  };` : '  functions: {};',
    actorBody ? `  actors: {\n${actorBody}  };` : '  actors: {};',
    '}',
    '',
  ].join('\n');
  return [header, w.text(), component].filter((s) => s).join('\n');
}
