/**
 * The marker for a task argument that lives on another node: `{ [REMOTE_ARG]:
 * location }`. The node running the task pulls it from its owner into its
 * own store, then passes it to the task like any stored argument.
 */
import type { RemoteLocation } from '../../store/object-store.js';

export const REMOTE_ARG = '\u0000tsray:remote';

export function remoteArg(loc: RemoteLocation): Record<string, RemoteLocation> {
  return { [REMOTE_ARG]: loc };
}

/** The location in a marker, or undefined for any other value. */
export function remoteLocation(v: unknown): RemoteLocation | undefined {
  if (v === null || typeof v !== 'object' || !(REMOTE_ARG in v)) return undefined;
  const loc = (v as Record<string, unknown>)[REMOTE_ARG];
  return isLocation(loc) ? loc : undefined;
}

/** Bytes each node holds of the objects at `locs`, by node id (undefined: none). */
export function bytesByNode(locs: Iterable<RemoteLocation | undefined>): Map<string, number> | undefined {
  let m: Map<string, number> | undefined;
  for (const loc of locs) if (loc) (m ??= new Map()).set(loc.nodeId, (m.get(loc.nodeId) ?? 0) + loc.size);
  return m;
}

/** Bytes of arguments each node holds, from the arguments' remote markers (where the head places work by locality). */
export function argumentBytes(args: unknown[]): Map<string, number> | undefined {
  return bytesByNode(args.map(remoteLocation));
}

/** Whether `v` has a location's shape. */
export function isLocation(v: unknown): v is RemoteLocation {
  if (v === null || typeof v !== 'object') return false;
  const loc = v as Record<string, unknown>;
  return typeof loc.address === 'string' && typeof loc.objectId === 'string' && typeof loc.nodeId === 'string' && typeof loc.size === 'number' && Number.isSafeInteger(loc.size) && loc.size >= 0;
}
