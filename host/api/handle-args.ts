/** The actor handles inside a task's or call's arguments, so their actors are held while it runs. */
import { InvalidArgumentError } from '../errors.js';
import type { FuncDef, WitType } from '../wit/types.js';

/** What `handlesIn` needs of a handle (the class lives in handle.ts, which imports this file). */
export interface CountedHandle { readonly id: string; readonly released: boolean }

const mentions = new WeakMap<FuncDef, boolean>();
const NONE: readonly string[] = [];

function mentionsHandle(t: WitType): boolean {
  switch (t.kind) {
    case 'record': return t.name === 'actor-handle' || t.fields.some((f) => mentionsHandle(f.type));
    case 'list': return mentionsHandle(t.elem);
    case 'option': return mentionsHandle(t.type);
    case 'tuple': return t.types.some(mentionsHandle);
    case 'variant': return t.cases.some((c) => c.type !== undefined && mentionsHandle(c.type));
    case 'result': return (t.ok !== undefined && mentionsHandle(t.ok)) || (t.err !== undefined && mentionsHandle(t.err));
    default: return false;
  }
}

function collect(v: unknown, isHandle: (x: object) => x is CountedHandle, into: Set<string>): void {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return;
  if (isHandle(v)) {
    if (v.released) throw new InvalidArgumentError(`ActorHandle(${v.id}) was released; it cannot be passed on`);
    into.add(v.id);
    return;
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, isHandle, into);
}

/**
 * The ids of the handles in `args` of `f` (only functions whose WIT
 * parameters mention `actor-handle` are searched, so others cost nothing).
 */
export function handlesIn(f: FuncDef, args: unknown[], isHandle: (x: object) => x is CountedHandle): readonly string[] {
  let m = mentions.get(f);
  if (m === undefined) mentions.set(f, (m = f.params.some((p) => mentionsHandle(p.type))));
  if (!m) return NONE;
  const out = new Set<string>();
  collect(args, isHandle, out);
  return [...out];
}
