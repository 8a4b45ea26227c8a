/** Syntax trees of several WIT files -> one resolved world. */
import type { SourceText } from './lexer.js';
import type {
  FileSyntax, FuncSyntax, InterfaceBody, InterfaceSyntax, PackageSyntax, PathSyntax, TypeExpr, WorldSyntax,
} from './parser.js';
import {
  ROOT, type FuncDef, type InterfaceDef, type ResolvedWorld, type ResourceDef, type WitType, type WorldItem,
} from './types.js';
import { MAX_TYPE_DEPTH, MAX_TYPE_SIZE, measure, worldSize } from './limits.js';

const PRIMITIVES = new Set(['bool', 's8', 'u8', 's16', 'u16', 's32', 'u32', 's64', 'u64', 'f32', 'f64', 'char', 'string']);

interface Pkg { name: string; interfaces: Map<string, InterfaceSyntax>; worlds: Map<string, WorldSyntax> }

/** A named-type scope: an interface, a world, or an inline interface. */
interface Scope {
  owner: string;
  src: SourceText;
  pkg: Pkg;
  body: InterfaceBody;
  types: Map<string, WitType>;
  resolving: Set<string>;
}

function splitVersion(name: string): { base: string; version?: string } {
  const at = name.indexOf('@');
  return at < 0 ? { base: name } : { base: name.slice(0, at), version: name.slice(at + 1) };
}

export class WitResolver {
  private readonly pkgs = new Map<string, Pkg>();
  private readonly ifaceCache = new Map<string, InterfaceDef>();
  /** The interfaces each named interface takes types from (`use`), by full name. */
  private readonly ifaceDeps = new Map<string, InterfaceDef[]>();
  /** How many types, interfaces and worlds are being resolved inside one another right now. */
  private nesting = 0;

  constructor(files: FileSyntax[]) {
    for (const f of files) {
      for (const p of [...(f.pkg ? [f.pkg] : []), ...f.nested]) this.addPackage(p);
    }
  }

  private addPackage(p: PackageSyntax): void {
    let pkg = this.pkgs.get(p.name);
    if (!pkg) { pkg = { name: p.name, interfaces: new Map(), worlds: new Map() }; this.pkgs.set(p.name, pkg); }
    for (const i of p.interfaces) {
      if (pkg.interfaces.has(i.name)) throw i.src.error(i.pos, `interface '${i.name}' is defined twice in package ${p.name}`);
      pkg.interfaces.set(i.name, i);
    }
    for (const w of p.worlds) {
      if (pkg.worlds.has(w.name)) throw w.src.error(w.pos, `world '${w.name}' is defined twice in package ${p.name}`);
      pkg.worlds.set(w.name, w);
    }
  }

  /** Every world, as `ns:pkg/world`. */
  worldNames(): string[] {
    return [...this.pkgs.values()].flatMap((p) => [...p.worlds.keys()].map((w) => `${p.name}/${w}`));
  }

  /** Finds a world by plain name (`matrix`) or full name (`ns:pkg/matrix`). */
  findWorld(name: string): { pkg: Pkg; world: WorldSyntax } | undefined {
    const slash = name.lastIndexOf('/');
    for (const pkg of this.pkgs.values()) {
      if (slash >= 0 && splitVersion(pkg.name).base !== splitVersion(name.slice(0, slash)).base) continue;
      const w = pkg.worlds.get(slash >= 0 ? name.slice(slash + 1) : name);
      if (w) return { pkg, world: w };
    }
    return undefined;
  }

  resolveWorld(name: string): ResolvedWorld {
    const found = this.findWorld(name);
    if (!found) {
      const known = this.worldNames();
      throw new Error(`world '${name}' not found${known.length ? `; known worlds: ${known.join(', ')}` : ' (no world is defined)'}`);
    }
    const out: ResolvedWorld = { packageName: found.pkg.name, name: found.world.name, imports: [], exports: [] };
    this.collectWorld(found.pkg, found.world, out, new Set());
    const size = worldSize(out);
    if (size > MAX_TYPE_SIZE) {
      throw found.world.src.error(found.world.pos, `world '${found.world.name}' is too large: its function types, written out in full, have size ${size}, above the limit of ${MAX_TYPE_SIZE}`);
    }
    return out;
  }

  /** Runs one level of nested resolution, refusing chains deeper than MAX_TYPE_DEPTH (which would exhaust the stack). */
  private deeper<T>(src: SourceText, pos: number, f: () => T): T {
    if (this.nesting >= MAX_TYPE_DEPTH) {
      throw src.error(pos, `types, aliases, uses or includes nest deeper than ${MAX_TYPE_DEPTH} levels`);
    }
    this.nesting++;
    try {
      return f();
    } finally {
      this.nesting--;
    }
  }

  /** Refuses a type deeper than MAX_TYPE_DEPTH or larger than MAX_TYPE_SIZE when written out in full. */
  private bounded<T extends WitType>(scope: Scope, pos: number, t: T): T {
    const m = measure(t);
    if (m.depth > MAX_TYPE_DEPTH) throw scope.src.error(pos, `type nests ${m.depth} levels deep, above the limit of ${MAX_TYPE_DEPTH}`);
    if (m.size > MAX_TYPE_SIZE) throw scope.src.error(pos, `type is too large: written out in full it has size ${m.size}, above the limit of ${MAX_TYPE_SIZE}`);
    return t;
  }

  private collectWorld(pkg: Pkg, w: WorldSyntax, out: ResolvedWorld, seen: Set<WorldSyntax>): void {
    if (seen.has(w)) throw w.src.error(w.pos, `world '${w.name}' includes itself`);
    seen.add(w);
    for (const inc of w.includes) {
      const p = inc.pkg ? this.packageOf(inc, w.src) : pkg;
      const iw = p.worlds.get(inc.name);
      if (!iw) throw w.src.error(inc.pos, `world '${inc.name}' not found in package ${p.name}`);
      this.deeper(w.src, inc.pos, () => this.collectWorld(p, iw, out, seen));
    }
    const scope: Scope = { owner: ROOT, src: w.src, pkg, body: w, types: new Map(), resolving: new Set() };
    for (const item of w.items) {
      const list = item.dir === 'import' ? out.imports : out.exports;
      let entry: WorldItem;
      if (item.kind === 'func') {
        entry = { kind: 'func', name: item.name, func: this.func(scope, item.func) };
      } else if (item.kind === 'inline') {
        const iface = this.interfaceFrom(item.name, { owner: item.name, src: w.src, pkg, body: item.body, types: new Map(), resolving: new Set() });
        entry = { kind: 'interface', name: item.name, iface };
      } else {
        const iface = this.interfaceAt(item.path, pkg, w.src);
        entry = { kind: 'interface', name: iface.name, iface };
        // As wasm-tools does: the interfaces it takes types from are imported too (unless exported alongside)
        for (const dep of this.depsOf(iface)) {
          if (![...out.imports, ...(item.dir === 'export' ? out.exports : [])].some((e) => e.name === dep.name)) out.imports.push({ kind: 'interface', name: dep.name, iface: dep });
        }
      }
      if (list.some((e) => e.name === entry.name)) {
        // Includes may bring the same interface twice; that is a union, not a conflict.
        if (item.kind === 'path') continue;
        throw w.src.error(item.pos, `'${entry.name}' is ${item.dir}ed twice`);
      }
      list.push(entry);
    }
  }

  private packageOf(path: PathSyntax, src: SourceText): Pkg {
    const wanted = path.version ? `${path.pkg}@${path.version}` : path.pkg!;
    const pkg = this.pkgs.get(wanted) ?? [...this.pkgs.values()].find((p) => splitVersion(p.name).base === path.pkg);
    if (!pkg) throw src.error(path.pos, `package '${wanted}' not found (is its .wit file in the --wit directory?)`);
    return pkg;
  }

  private interfaceAt(path: PathSyntax, from: Pkg, src: SourceText): InterfaceDef {
    const pkg = path.pkg ? this.packageOf(path, src) : from;
    const syn = pkg.interfaces.get(path.name);
    if (!syn) throw src.error(path.pos, `interface '${path.name}' not found in package ${pkg.name}`);
    const { base, version } = splitVersion(pkg.name);
    const full = `${base}/${path.name}${version ? '@' + version : ''}`;
    let def = this.ifaceCache.get(full);
    if (!def) {
      def = { name: full, funcs: [], resources: [], types: new Map() };
      this.ifaceCache.set(full, def); // before filling: `use` cycles then terminate
      const filled = this.deeper(src, path.pos, () => this.interfaceFrom(full, { owner: full, src: syn.src, pkg, body: syn, types: new Map(), resolving: new Set() }));
      Object.assign(def, filled);
      this.ifaceDeps.set(full, syn.uses.map((u) => this.interfaceAt(u.from, pkg, syn.src)));
    }
    return def;
  }

  /** Every interface `iface` takes types from, directly or through others, dependencies first. */
  private depsOf(iface: InterfaceDef, out: InterfaceDef[] = [], seen = new Set<string>([iface.name])): InterfaceDef[] {
    for (const dep of this.ifaceDeps.get(iface.name) ?? []) {
      if (seen.has(dep.name)) continue;
      seen.add(dep.name);
      this.depsOf(dep, out, seen);
      out.push(dep);
    }
    return out;
  }

  private interfaceFrom(name: string, scope: Scope): InterfaceDef {
    const def: InterfaceDef = { name, funcs: [], resources: [], types: new Map() };
    for (const t of scope.body.types) {
      const resolved = this.named(scope, t.name, t.pos);
      def.types.set(t.name, resolved);
      if (t.kind === 'resource') {
        const res = (resolved as { resource: ResourceDef }).resource;
        def.resources.push(res);
        for (const f of t.funcs) def.funcs.push(this.func(scope, f, res));
      }
    }
    for (const f of scope.body.funcs) def.funcs.push(this.func(scope, f));
    const names = new Set<string>();
    for (const f of def.funcs) {
      if (names.has(f.name)) throw scope.src.error(0, `function '${f.name}' is defined twice in ${name}`);
      names.add(f.name);
    }
    return def;
  }

  private func(scope: Scope, f: FuncSyntax, res?: ResourceDef): FuncDef {
    const params = f.params.map((p) => ({ name: p.name, type: this.type(scope, p.type) }));
    const seen = new Set<string>();
    for (const p of params) {
      if (seen.has(p.name)) throw scope.src.error(f.pos, `parameter '${p.name}' of '${f.name}' is declared twice`);
      seen.add(p.name);
    }
    const def: FuncDef = { name: f.name, kind: f.kind, shortName: f.name, params };
    if (f.result) def.result = this.type(scope, f.result);
    if (res) {
      def.resource = res;
      if (f.kind === 'constructor') {
        def.name = `[constructor]${res.name}`;
        def.result = { kind: 'own', resource: res };
      } else if (f.kind === 'method') {
        def.name = `[method]${res.name}.${f.name}`;
        def.params.unshift({ name: 'self', type: { kind: 'borrow', resource: res } });
      } else {
        def.name = `[static]${res.name}.${f.name}`;
      }
    }
    return def;
  }

  private type(scope: Scope, t: TypeExpr): WitType {
    return this.deeper(scope.src, t.pos, () => this.bounded(scope, t.pos, this.typeOf(scope, t)));
  }

  private typeOf(scope: Scope, t: TypeExpr): WitType {
    switch (t.kind) {
      case 'named':
        if (PRIMITIVES.has(t.name)) return { kind: t.name as 'bool' };
        return this.named(scope, t.name, t.pos);
      case 'list': return { kind: 'list', elem: this.type(scope, t.arg) };
      case 'option': return { kind: 'option', type: this.type(scope, t.arg) };
      case 'tuple': return { kind: 'tuple', types: t.args.map((a) => this.type(scope, a)) };
      case 'result': {
        const r: WitType = { kind: 'result' };
        if (t.ok) r.ok = this.type(scope, t.ok);
        if (t.err) r.err = this.type(scope, t.err);
        return r;
      }
      case 'own': case 'borrow': {
        const target = this.type(scope, t.arg);
        if (target.kind !== 'own') throw scope.src.error(t.pos, `${t.kind}<...> needs a resource type`);
        return { kind: t.kind, resource: target.resource };
      }
    }
  }

  /** Resolves a type name in a scope: local definitions first, then `use`d names. */
  private named(scope: Scope, name: string, pos: number): WitType {
    const cached = scope.types.get(name);
    if (cached) return cached;
    const def = scope.body.types.find((d) => d.name === name);
    if (def) {
      if (scope.resolving.has(name)) throw scope.src.error(def.pos, `type '${name}' refers to itself`);
      scope.resolving.add(name);
      let out: WitType;
      switch (def.kind) {
        case 'alias': out = this.type(scope, def.type); break;
        case 'record': out = this.bounded(scope, def.pos, { kind: 'record', name, owner: scope.owner, fields: def.fields.map((f) => ({ name: f.name, type: this.type(scope, f.type) })) }); break;
        case 'variant': out = this.bounded(scope, def.pos, { kind: 'variant', name, cases: def.cases.map((c) => (c.type ? { name: c.name, type: this.type(scope, c.type) } : { name: c.name })) }); break;
        case 'enum': out = { kind: 'enum', name, cases: def.cases }; break;
        case 'flags': out = { kind: 'flags', name, flags: def.flags }; break;
        case 'resource': out = { kind: 'own', resource: { name, owner: scope.owner } }; break;
      }
      scope.resolving.delete(name);
      scope.types.set(name, out);
      return out;
    }
    for (const u of scope.body.uses) {
      const item = u.names.find((n) => (n.as ?? n.name) === name);
      if (!item) continue;
      const iface = this.interfaceAt(u.from, scope.pkg, scope.src);
      const t = iface.types.get(item.name);
      if (!t) throw scope.src.error(item.pos, `type '${item.name}' is not defined in interface ${iface.name}`);
      scope.types.set(name, t);
      return t;
    }
    throw scope.src.error(pos, `type '${name}' is not defined`);
  }
}
