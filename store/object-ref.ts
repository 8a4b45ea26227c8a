/** A reference to an object in a node's object store: the result of `remote()` or `put()`. */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

/** The store that counts references (the running node's); told when a ref is released. */
export interface RefOwner {
  release(ref: ObjectRef): void;
}

let owner: RefOwner | undefined;

/** @internal Set by the node that creates refs. */
export function setRefOwner(o: RefOwner | undefined): void {
  owner = o;
}

/** Type-level only: the key of an ObjectRef's value type (no such property exists at run time). */
declare const valueType: unique symbol;

/**
 * `T` is the type of the object's value (`get` returns it): typed drivers
 * (`load<Component>()`) get `ObjectRef<number>` from a function returning
 * f64; untyped code gets `ObjectRef<unknown>`, usable wherever a typed ref is.
 *
 * Holding an ObjectRef keeps its object alive (a LOCAL_REFERENCE in
 * `tsray memory`). Release it when done, with `release()`, `tsray.free()` or
 * `using ref = ...`; a ref that is garbage-collected unreleased is released
 * then, at a time JavaScript does not promise.
 */
export class ObjectRef<T = unknown> {
  #released = false;
  /**
   * Carries `T` for the type checker only. A method type is compared both
   * ways, so `ObjectRef<unknown>` (untyped code) and `ObjectRef<number>` fit
   * each other while `ObjectRef<string>` and `ObjectRef<number>` do not.
   */
  declare readonly [valueType]?: { bivariant(value: T): void }['bivariant'];

  /** @internal */
  constructor(/** Hex id, unique in the cluster. */ readonly id: string) {}

  /** Whether `release()` was called on this ref; a released ref cannot be passed to `get` or tasks. */
  get released(): boolean {
    return this.#released;
  }

  /** Drops this reference; the object is freed once no reference of any kind remains. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    owner?.release(this);
  }

  [Symbol.dispose](): void {
    this.release();
  }

  toString(): string {
    return `ObjectRef(${this.id})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** Random bytes drawn in bulk: one system call per POOL / ID_BYTES ids. */
const ID_BYTES = 16;
const POOL = 4096;
let pool = Buffer.alloc(0);
let used = POOL;

/** A job's driver starts its ids with the job id (see `setIdPrefix`). */
let prefix = '';

/**
 * A fresh id: 128 random bits (hex), or in a job's driver its 8-digit job id
 * and 96 random bits. Ids of objects and actors are capabilities, so they
 * must not be guessable from ids one has seen.
 */
export function newId(): string {
  if (used === POOL) { pool = randomBytes(POOL); used = 0; }
  used += ID_BYTES;
  const id = pool.toString('hex', used - ID_BYTES, used);
  return prefix ? prefix + id.slice(prefix.length) : id;
}

/**
 * An id for work (or its results) that `parent` made: its parent's first 8
 * hex digits, then 96 random bits. A job's whole tree of tasks keeps the
 * job id its driver's ids start with (see `setIdPrefix`).
 */
export function childId(parent: string | undefined): string {
  const id = newId();
  return parent && /^[0-9a-f]{8}/.test(parent) ? parent.slice(0, 8) + id.slice(8) : id;
}

/** Whether `s` is a job id: 8 hex digits, the first of the ids its driver draws. */
export function isJobId(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9a-f]{8}$/.test(s);
}

/** Ids drawn in this process from now on start with `jobId` (see `isJobId`), as Ray's ids carry their job; '' for none. */
export function setIdPrefix(jobId: string): void {
  if (jobId !== '' && !isJobId(jobId)) throw new Error(`a job id is 8 hex digits, got '${String(jobId).slice(0, 40)}'`);
  prefix = jobId;
}
