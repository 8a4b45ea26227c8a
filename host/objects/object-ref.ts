/** A reference to an object in a node's object store: the result of `remote()` or `put()`. */
import { inspect } from 'node:util';

export class ObjectRef {
  /** @internal */
  constructor(/** Hex id, unique in the cluster. */ readonly id: string) {}

  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

let counter = 0;
const prefix = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');

/** A fresh id: a per-process random prefix and a counter, so ids never repeat within a run. */
export function newId(): string {
  counter++;
  return prefix + counter.toString(16).padStart(12, '0');
}
