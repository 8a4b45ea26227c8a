/**
 * Host-defined resources as a guest holds them (tsray:accel's devices,
 * buffers, tensors): the engine's table from the guest's handles to the host
 * objects, and a resource's functions taken from the class the host
 * implements it with (the shape jco's glue takes, so both engines share one
 * implementation).
 */
import { camelCase } from '../abi/names.js';
import type { FuncDef, ResourceDef } from '../wit/types.js';
import { liftError } from './codec.js';
import { DISPOSE, resourceKey, type HostResourceClass } from './host-imports.js';

export class HostHandles {
  /** Resource keys (see `resourceKey`) the host defines for this instance's world. */
  private readonly kinds = new Set<string>();
  private readonly table = new Map<number, { obj: object; key: string }>();

  constructor(private readonly nextHandle: () => number) {}

  /** Registers a resource of an imported interface. */
  define(r: ResourceDef): void {
    this.kinds.add(resourceKey(r));
  }

  /** Whether `r` is defined by the host (its handles live here). */
  owns(r: ResourceDef): boolean {
    return this.kinds.has(resourceKey(r));
  }

  get size(): number {
    return this.table.size;
  }

  /** A host call returned `obj`: the guest gets a handle that owns it. */
  give(r: ResourceDef, obj: unknown): number {
    if (typeof obj !== 'object' || obj === null) throw liftError(`the host returned no ${r.name} object`);
    const h = this.nextHandle();
    this.table.set(h, { obj, key: resourceKey(r) });
    return h;
  }

  /** The object behind handle `h` of `r`; `own` moves it back to the host. A forged or mistyped handle traps. */
  take(r: ResourceDef, h: number, own: boolean): object {
    const e = this.table.get(h);
    if (!e || e.key !== resourceKey(r)) throw liftError(`guest passed unknown ${r.name} handle ${h}`);
    if (own) this.table.delete(h);
    return e.obj;
  }

  /** The guest dropped handle `h` of `r`: the host object is disposed. */
  drop(r: ResourceDef, h: number): void {
    const e = this.table.get(h);
    if (!e || e.key !== resourceKey(r)) throw liftError(`[resource-drop]${r.name}: unknown handle ${h}`);
    this.table.delete(h);
    dispose(e.obj);
  }

  /** Disposes everything the guest still holds (the instance is going away). */
  clear(): void {
    for (const e of this.table.values()) dispose(e.obj);
    this.table.clear();
  }
}

function dispose(obj: object): void {
  (obj as { [DISPOSE]?: () => void })[DISPOSE]?.();
}

/** A host resource's constructor, method or static function as a plain function, from its class. */
export function resourceFunction(f: FuncDef, cls: HostResourceClass | undefined): ((...args: unknown[]) => unknown) | undefined {
  if (!cls) return undefined;
  const name = camelCase(f.shortName);
  switch (f.kind) {
    case 'constructor': return (...args) => new (cls as unknown as new (...a: unknown[]) => object)(...args);
    case 'static': return typeof cls[name] === 'function' ? (...args) => (cls[name] as (...a: unknown[]) => unknown)(...args) : undefined;
    case 'method': return (self, ...args) => (self as Record<string, (...a: unknown[]) => unknown>)[name]!(...args);
    default: return undefined;
  }
}
