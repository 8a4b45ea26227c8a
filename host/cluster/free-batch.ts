/**
 * Tells owners, through the head, that objects they hold for this peer
 * were freed here: batched by node, once per turn of the event loop, so a
 * burst of releases costs one frame per node.
 */
import type { ObjectStore } from '../../store/object-store.js';
import type { HeadChannel } from './head-link.js';

/** Sends `free` frames for `objects`' freed remote entries from now on. */
export function sendFrees(objects: ObjectStore, peer: Pick<HeadChannel, 'send'>): void {
  let toFree = new Map<string, string[]>();
  const flush = (): void => {
    const batch = toFree;
    toFree = new Map();
    for (const [nodeId, objectIds] of batch) peer.send({ t: 'free', nodeId, objectIds });
  };
  objects.onRemoteFree = (loc) => {
    if (toFree.size === 0) setImmediate(flush);
    const list = toFree.get(loc.nodeId) ?? [];
    list.push(loc.objectId);
    toFree.set(loc.nodeId, list);
  };
}
