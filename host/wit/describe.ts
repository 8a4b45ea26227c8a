/** WIT types and functions back to WIT text, for listings and error messages. */
import type { FuncDef, WitType } from './types.js';

export function describeType(t: WitType): string {
  switch (t.kind) {
    case 'list': return `list<${describeType(t.elem)}>`;
    case 'option': return `option<${describeType(t.type)}>`;
    case 'tuple': return `tuple<${t.types.map(describeType).join(', ')}>`;
    case 'result':
      if (!t.ok && !t.err) return 'result';
      if (!t.err) return `result<${describeType(t.ok!)}>`;
      return `result<${t.ok ? describeType(t.ok) : '_'}, ${describeType(t.err)}>`;
    case 'record': case 'variant': case 'enum': case 'flags': return t.name;
    case 'own': return t.resource.name;
    case 'borrow': return `borrow<${t.resource.name}>`;
    default: return t.kind;
  }
}

/** `name: func(a: u32) -> string`, with the plain name of a resource function. */
export function describeFunc(f: FuncDef): string {
  const params = (f.kind === 'method' ? f.params.slice(1) : f.params).map((p) => `${p.name}: ${describeType(p.type)}`).join(', ');
  if (f.kind === 'constructor') return `${f.resource!.name}.constructor(${params})`;
  const prefix = f.resource ? `${f.resource.name}.${f.kind === 'static' ? 'static ' : ''}` : '';
  return `${prefix}${f.shortName}: func(${params})${f.result ? ` -> ${describeType(f.result)}` : ''}`;
}
