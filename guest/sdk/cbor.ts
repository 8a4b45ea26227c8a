// A small CBOR (RFC 8949) writer and reader: how actor-call arguments,
// nested-task arguments and objects travel. An object ref is tag 40001 around
// its id; a Float64Array is RFC 8746's tag 86 (little-endian float64 array).
import { ObjectRef } from "./object-ref";

/** The CBOR tag of an object ref inside a value. */
export const REF_TAG: u64 = 40001;
const F64_TAG: u64 = 86;

/** Builds CBOR bytes: `new CborWriter().array(2).int(1).str("x")`. */
export class CborWriter {
  private buf: Uint8Array = new Uint8Array(64);
  private len: i32 = 0;

  /** Room for `n` more bytes (doubling, so large values are copied a few times, not byte by byte). */
  private room(n: i32): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.buf.dataStart, <usize>this.len);
    this.buf = next;
  }

  private push(b: u8): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  private append(ptr: usize, n: i32): void {
    this.room(n);
    memory.copy(this.buf.dataStart + <usize>this.len, ptr, <usize>n);
    this.len += n;
  }

  private head(major: u8, v: u64): CborWriter {
    const m = major << 5;
    if (v < 24) this.push(m | <u8>v);
    else if (v < 0x100) { this.push(m | 24); this.push(<u8>v); }
    else if (v < 0x10000) { this.push(m | 25); this.be(v, 2); }
    else if (v < 0x100000000) { this.push(m | 26); this.be(v, 4); }
    else { this.push(m | 27); this.be(v, 8); }
    return this;
  }

  private be(v: u64, n: i32): void {
    for (let i = n - 1; i >= 0; i--) this.push(<u8>(v >> (<u64>i * 8)));
  }

  int(v: i64): CborWriter { return v >= 0 ? this.head(0, <u64>v) : this.head(1, <u64>(-1 - v)); }
  uint(v: u64): CborWriter { return this.head(0, v); }
  float(v: f64): CborWriter { this.push(0xfb); this.be(reinterpret<u64>(v), 8); return this; }
  bool(v: bool): CborWriter { this.push(v ? 0xf5 : 0xf4); return this; }
  null(): CborWriter { this.push(0xf6); return this; }
  str(s: string): CborWriter {
    const b = String.UTF8.encode(s);
    this.head(3, <u64>b.byteLength);
    this.append(changetype<usize>(b), b.byteLength);
    return this;
  }
  /** An object ref: the task receiving it (or reading the object) may use it. */
  ref(r: ObjectRef): CborWriter { this.head(6, REF_TAG); return this.str(r.objectId); }
  /** A Float64Array as one byte string (no per-item encoding). */
  f64s(a: Float64Array): CborWriter {
    this.head(6, F64_TAG);
    this.head(2, <u64>a.byteLength);
    this.append(a.dataStart, a.byteLength);
    return this;
  }
  /** Appends bytes that already are CBOR, as they are. */
  raw(b: Uint8Array): CborWriter {
    this.append(b.dataStart, b.length);
    return this;
  }
  /** Starts an array of `n` items: write them next. */
  array(n: u32): CborWriter { return this.head(4, n); }
  /** Starts a map of `n` pairs: write key, value, key, value... next. */
  map(n: u32): CborWriter { return this.head(5, n); }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads CBOR values in order: `r.int()`, `r.str()`, `r.array()` (returns the item count). */
export class CborReader {
  private pos: i32 = 0;
  constructor(private data: Uint8Array) {}

  private byte(): u8 {
    if (this.pos >= this.data.length) throw new Error("CBOR: unexpected end of data");
    return this.data[this.pos++];
  }

  private arg(info: u8): u64 {
    if (info < 24) return info;
    const n: i32 = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (n == 0) throw new Error("CBOR: unsupported length encoding");
    let v: u64 = 0;
    for (let i = 0; i < n; i++) v = (v << 8) | this.byte();
    return v;
  }

  /** Major type of the next value (0 uint, 1 negative int, 2 bytes, 3 text, 4 array, 5 map, 6 tag, 7 simple/float). */
  peekMajor(): u8 {
    return this.data[this.pos] >> 5;
  }

  int(): i64 {
    let b = this.byte();
    while (b >> 5 == 6) { this.arg(b & 31); b = this.byte(); } // skip tags
    const v = this.arg(b & 31);
    if (b >> 5 == 0) return <i64>v;
    if (b >> 5 == 1) return -1 - <i64>v;
    if (b >> 5 == 7) { this.pos--; return <i64>this.float(); }
    throw new Error("CBOR: expected an integer");
  }

  float(): f64 {
    const b = this.byte();
    if (b >> 5 == 0 || b >> 5 == 1) { this.pos--; return <f64>this.int(); }
    if (b == 0xfb) return reinterpret<f64>(this.arg(27));
    if (b == 0xfa) return <f64>reinterpret<f32>(<u32>this.arg(26));
    if (b == 0xf9) {
      const h = <u32>this.arg(25);
      const e = (h >> 10) & 31, m = h & 1023;
      const mag = e == 0 ? <f64>m * Math.pow(2, -24) : e == 31 ? (m == 0 ? Infinity : NaN) : (<f64>m + 1024) * Math.pow(2, <f64>e - 25);
      return h & 0x8000 ? -mag : mag;
    }
    throw new Error("CBOR: expected a number");
  }

  bool(): bool {
    const b = this.byte();
    if (b == 0xf5) return true;
    if (b == 0xf4) return false;
    throw new Error("CBOR: expected a boolean");
  }

  /** True (and consumed) if the next value is null or undefined. */
  isNull(): bool {
    if (this.data[this.pos] == 0xf6 || this.data[this.pos] == 0xf7) { this.pos++; return true; }
    return false;
  }

  str(): string {
    const b = this.byte();
    if (b >> 5 != 3) throw new Error("CBOR: expected a string");
    const n = <i32>this.arg(b & 31);
    const s = String.UTF8.decodeUnsafe(this.data.dataStart + <usize>this.pos, <usize>n);
    this.pos += n;
    return s;
  }

  bytes(): Uint8Array {
    const b = this.byte();
    if (b >> 5 != 2) throw new Error("CBOR: expected bytes");
    const n = <i32>this.arg(b & 31);
    const out = this.data.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** An object ref (tag 40001 around its id). */
  ref(): ObjectRef {
    const b = this.byte();
    if (b >> 5 != 6 || this.arg(b & 31) != REF_TAG) throw new Error("CBOR: expected an object ref");
    return ObjectRef.of(this.str());
  }

  /** A Float64Array (tag 86 around bytes), or an array of numbers. */
  f64s(): Float64Array {
    if (this.peekMajor() == 4) {
      const n = this.array();
      const out = new Float64Array(n);
      for (let i: u32 = 0; i < n; i++) out[i] = this.float();
      return out;
    }
    const b = this.byte();
    if (b >> 5 != 6 || this.arg(b & 31) != F64_TAG) throw new Error("CBOR: expected a float64 array");
    const h = this.byte();
    if (h >> 5 != 2) throw new Error("CBOR: expected a float64 array");
    const n = <i32>this.arg(h & 31);
    if (n < 0 || this.pos + n > this.data.length || (n & 7) != 0) throw new Error("CBOR: bad float64 array length");
    const out = new Float64Array(n >> 3);
    memory.copy(out.dataStart, this.data.dataStart + <usize>this.pos, <usize>n);
    this.pos += n;
    return out;
  }

  /** Reads an array header; returns how many items follow. */
  array(): u32 {
    const b = this.byte();
    if (b >> 5 != 4) throw new Error("CBOR: expected an array");
    return <u32>this.arg(b & 31);
  }

  /** Reads a map header; returns how many key/value pairs follow. */
  map(): u32 {
    const b = this.byte();
    if (b >> 5 != 5) throw new Error("CBOR: expected a map");
    return <u32>this.arg(b & 31);
  }
}
