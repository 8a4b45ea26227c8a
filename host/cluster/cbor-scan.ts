/**
 * A walk over CBOR bytes before they are decoded, so that what a peer sends
 * decodes into a plain tree of bounded depth. cbor-x would otherwise honour
 * value sharing (tags 28/29: an object that contains itself, or one array
 * referenced a million times), packed values (tags 51/6), records and
 * constructed errors (tag 27), and preallocate arrays whose length the bytes
 * cannot back. Only the tags tsray's own frames use are allowed.
 */

/** Nesting deeper than this is refused: no frame or task value needs it, and decoders recurse. */
export const MAX_CBOR_DEPTH = 256;

/** Tags the encoder produces for frame contents, with the major type of the item each one wraps. */
const ALLOWED_TAGS = new Map<number, number>([
  [1, 0], // epoch date (an integer or a float: checked below)
  [2, 2], [3, 2], // bignums: byte strings
  [258, 4], // Set: an array
  [259, 5], // Map: a map
]);
/** RFC 8746 typed arrays (64-87) wrap a byte string. */
const isTypedArrayTag = (tag: number): boolean => tag >= 64 && tag <= 87;

/**
 * Checks that `data` is exactly one CBOR item of definite lengths, at most
 * MAX_CBOR_DEPTH deep, using only allowed tags. Returns a reason to refuse,
 * or undefined when it may be decoded.
 */
export function cborProblem(data: Uint8Array): string | undefined {
  const end = data.length;
  let pos = 0;
  // Items still to read in each open container (a tag counts as a container of one).
  const open: number[] = [];
  /** Major type the next item must have (after a tag), or -1. */
  let want = -1;
  let items = 1;
  while (items > 0 || open.length > 0) {
    if (items === 0) { items = open.pop()!; continue; }
    items--;
    if (pos >= end) return 'truncated CBOR';
    const first = data[pos++]!;
    const major = first >> 5;
    const info = first & 31;
    if (want >= 0 && major !== want && !(want === 0 && (major === 1 || (major === 7 && info >= 25 && info <= 27)))) {
      return 'a tag wraps an item of the wrong kind';
    }
    want = -1;
    if (info === 31) return 'indefinite-length CBOR items are not accepted';
    if (info >= 28) return 'malformed CBOR';
    let arg = info;
    if (info >= 24) {
      const n = 1 << (info - 24);
      if (pos + n > end) return 'truncated CBOR';
      arg = 0;
      for (let i = 0; i < n; i++) arg = arg * 256 + data[pos + i]!;
      pos += n;
    }
    switch (major) {
      case 0: case 1:
        break;
      case 2: case 3:
        if (arg > end - pos) return 'a CBOR string longer than the frame';
        pos += arg;
        break;
      case 4: case 5: {
        const count = major === 5 ? arg * 2 : arg;
        // Every item takes at least one byte: a longer count is a lie that would only make the decoder preallocate.
        if (count > end - pos) return 'a CBOR container longer than the frame';
        if (count === 0) break;
        if (open.length >= MAX_CBOR_DEPTH) return `CBOR nested deeper than ${MAX_CBOR_DEPTH}`;
        open.push(items);
        items = count;
        break;
      }
      case 6: {
        const wraps = isTypedArrayTag(arg) ? 2 : ALLOWED_TAGS.get(arg);
        if (wraps === undefined) return `CBOR tag ${arg} is not accepted (no value sharing, packed values, records or constructed objects)`;
        if (open.length >= MAX_CBOR_DEPTH) return `CBOR nested deeper than ${MAX_CBOR_DEPTH}`;
        open.push(items);
        items = 1;
        want = wraps;
        break;
      }
      default: // 7: false, true, null, undefined and floats only
        if (info < 20 || info === 24) return 'a CBOR simple value that is not accepted';
    }
  }
  return pos === end ? undefined : 'bytes after the CBOR item';
}
