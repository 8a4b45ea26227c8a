/**
 * Turns an evaluated component into tsray's resolved WIT model: imports and
 * exports by name, types named by the first import or export that names
 * them (so a record `use`d from another interface keeps that interface as
 * its owner), resources as `ResourceDef`s.
 */
import { ComponentError } from '../../errors.js';
import { MAX_TYPE_DEPTH, MAX_TYPE_SIZE, measure, worldSize } from '../../wit/limits.js';
import { ROOT, type FuncDef, type InterfaceDef, type ResolvedWorld, type ResourceDef, type WitType, type WorldItem } from '../../wit/types.js';
import { isValNode, type Entity, type FuncTypeNode, type InstanceNode, type ResourceNode, type TypeNode, type ValNode } from './entities.js';
import type { Evaluated } from './evaluate.js';

class Namer {
  private readonly types = new Map<ValNode, WitType>();
  private readonly resources = new Map<ResourceNode, ResourceDef>();

  /** Gives `t` the name `name` in `owner` unless an earlier import or export named it. */
  name(t: TypeNode, name: string, owner: string): void {
    if (t.kind === 'resource' || t.kind === 'record' || t.kind === 'variant' || t.kind === 'enum' || t.kind === 'flags') t.naming ??= { name, owner };
  }

  resource(r: ResourceNode): ResourceDef {
    let d = this.resources.get(r);
    if (!d) this.resources.set(r, (d = { name: r.naming?.name ?? 'resource', owner: r.naming?.owner ?? ROOT }));
    return d;
  }

  wit(v: ValNode, depth = 0): WitType {
    const hit = this.types.get(v);
    if (hit) return hit;
    if (depth > MAX_TYPE_DEPTH) throw new ComponentError(`component types nest deeper than ${MAX_TYPE_DEPTH} levels`);
    const wit = (t: ValNode): WitType => this.wit(t, depth + 1);
    let out: WitType;
    switch (v.kind) {
      case 'record': out = { kind: 'record', name: v.naming?.name ?? 'record', owner: v.naming?.owner ?? ROOT, fields: v.fields.map(([name, t]) => ({ name, type: wit(t) })) }; break;
      case 'variant': out = { kind: 'variant', name: v.naming?.name ?? 'variant', cases: v.cases.map(([name, t]) => (t ? { name, type: wit(t) } : { name })) }; break;
      case 'enum': out = { kind: 'enum', name: v.naming?.name ?? 'enum', cases: [...v.cases] }; break;
      case 'flags': out = { kind: 'flags', name: v.naming?.name ?? 'flags', flags: [...v.flags] }; break;
      case 'list': out = { kind: 'list', elem: wit(v.elem) }; break;
      case 'tuple': out = { kind: 'tuple', types: v.types.map((t) => wit(t)) }; break;
      case 'option': out = { kind: 'option', type: wit(v.type) }; break;
      case 'result': out = { kind: 'result', ...(v.ok ? { ok: wit(v.ok) } : {}), ...(v.err ? { err: wit(v.err) } : {}) }; break;
      case 'own': case 'borrow': out = { kind: v.kind, resource: this.resource(v.resource) }; break;
      default: out = { kind: v.kind };
    }
    const m = measure(out);
    if (m.size > MAX_TYPE_SIZE) throw new ComponentError(`a component type is too large: written out in full it has size ${m.size}, above the limit of ${MAX_TYPE_SIZE}`);
    this.types.set(v, out);
    return out;
  }
}

/** `[constructor]r`, `[method]r.m`, `[static]r.m` or a plain function name. */
function funcDef(n: Namer, name: string, t: FuncTypeNode, resources: Map<string, ResourceDef>): FuncDef {
  const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(name);
  const params = t.params.map(([pname, pt]) => ({ name: pname, type: n.wit(pt) }));
  const result = t.result ? n.wit(t.result) : undefined;
  const base = { name, params, ...(result ? { result } : {}) };
  if (!m) return { ...base, kind: 'freestanding', shortName: name };
  const resource = resources.get(m[2]!);
  if (!resource) throw new ComponentError(`component exports '${name}' for a resource '${m[2]}' it does not export`);
  const kind = m[1] as 'constructor' | 'method' | 'static';
  return { ...base, kind, shortName: kind === 'constructor' ? 'constructor' : (m[3] ?? ''), resource };
}

function iface(n: Namer, name: string, inst: InstanceNode): InterfaceDef {
  const resources = new Map<string, ResourceDef>();
  const types = new Map<string, WitType>();
  const funcs: FuncDef[] = [];
  for (const [ename, e] of inst.exports) {
    if (e.sort !== 'type') continue;
    if (e.type.kind === 'resource') {
      const r = n.resource(e.type);
      resources.set(ename, r);
      types.set(ename, { kind: 'own', resource: r });
    } else if (isValNode(e.type) && (!('naming' in e.type) || e.type.naming?.owner === name)) {
      // As WIT resolves it: an interface's types are those it defines, not those it `use`s.
      types.set(ename, n.wit(e.type));
    }
  }
  for (const [ename, e] of inst.exports) if (e.sort === 'func') funcs.push(funcDef(n, ename, e.type, resources));
  return { name, funcs, resources: [...resources.values()], types };
}

function items(n: Namer, list: [string, Entity][], rootResources: Map<string, ResourceDef>): WorldItem[] {
  const out: WorldItem[] = [];
  for (const [name, e] of list) {
    if (e.sort === 'instance') out.push({ kind: 'interface', name, iface: iface(n, name, e.instance) });
    else if (e.sort === 'func') out.push({ kind: 'func', name, func: funcDef(n, name, e.type, rootResources) });
    else if (e.sort === 'type' && e.type.kind === 'resource') rootResources.set(name, n.resource(e.type));
  }
  return out;
}

/** The resolved world of an evaluated component; `names` come from tsray metadata when the binary has it. */
export function worldOf(ev: Evaluated, names: { packageName: string; name: string } = { packageName: 'root:component', name: 'root' }): ResolvedWorld {
  const n = new Namer();
  // Imports first: a type defined by an imported interface keeps that interface as its owner.
  for (const [list] of [[ev.imports], [ev.exports]] as const) {
    for (const [name, e] of list) {
      if (e.sort === 'type') n.name(e.type, name, ROOT);
      if (e.sort === 'instance') for (const [tname, te] of e.instance.exports) if (te.sort === 'type') n.name(te.type, tname, name);
    }
  }
  const rootResources = new Map<string, ResourceDef>();
  const imports = items(n, ev.imports, rootResources);
  const exports = items(n, ev.exports, rootResources);
  const world = { ...names, imports, exports };
  const size = worldSize(world);
  if (size > MAX_TYPE_SIZE) throw new ComponentError(`component is too large: its function types, written out in full, have size ${size}, above the limit of ${MAX_TYPE_SIZE}`);
  return world;
}
