// The WIT record `object-ref` of tsray:runtime/objects, as guests hold it.

// @ts-ignore: decorator
@external("tsray:runtime/objects", "release")
declare function hostRelease(idPtr: usize, idLen: usize): void;

/**
 * A reference to an object in the store, as a WIT `object-ref`: received as a
 * parameter, made by `put` or `remote`, returned or passed on as a value.
 */
export class ObjectRef {
  objectId: string = "";

  static of(id: string): ObjectRef {
    const r = new ObjectRef();
    r.objectId = id;
    return r;
  }

  /** Drops this task's reference now instead of when it ends. */
  release(): void {
    const id = String.UTF8.encode(this.objectId);
    hostRelease(changetype<usize>(id), id.byteLength);
  }
}

