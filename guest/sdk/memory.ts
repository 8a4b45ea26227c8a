// Guest-side memory for canonical-ABI calls.
//
// Every buffer the host lowers into the guest (arguments, import results) is an
// AssemblyScript ArrayBuffer allocated by `cabi_realloc`, so a `list<f64>`
// argument becomes a Float64Array view of it without a copy. Such buffers, and
// buffers handed back to the host as results, stay alive in `live` until the
// export's post-return runs.

const live = new Array<ArrayBuffer>();

/** Keeps a buffer alive until the current export's post-return. */
export function keepAlive(buf: ArrayBuffer): usize {
  live.push(buf);
  return changetype<usize>(buf);
}

let callsSinceCollect = 0;
let pagesAtCollect: i32 = memory.size();

/**
 * Releases everything kept alive for the call that just returned, and now and
 * then collects garbage. Guests use AssemblyScript's `minimal` runtime (no
 * shadow stack, so hot loops compile to plain wasm); it never collects on its
 * own, and post-return is the one moment no guest frame holds an object. A
 * collection runs when the memory grew or every 32 calls, so tiny calls do not
 * pay for a full mark-and-sweep each.
 */
export function releaseCall(): void {
  live.length = 0;
  if (++callsSinceCollect >= 32 || memory.size() != pagesAtCollect) {
    __collect();
    callsSinceCollect = 0;
    pagesAtCollect = memory.size();
  }
}

export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  const buf = changetype<ArrayBuffer>(__new(newSize, idof<ArrayBuffer>()));
  const ptr = keepAlive(buf);
  if (oldPtr != 0) memory.copy(ptr, oldPtr, min(oldSize, newSize));
  return ptr;
}

/** Scratch space for results passed through memory; one call is active at a time. */
export const RETURN_AREA: usize = heap.alloc(256);
