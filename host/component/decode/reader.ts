/**
 * A bounds-checked cursor over binary bytes: every read past the end, and
 * every count larger than the bytes left could hold, is a `ComponentError`,
 * so a hostile binary costs at most its own length to reject.
 */
import { ComponentError } from '../../errors.js';

export class Reader {
  constructor(readonly bytes: Uint8Array, public pos: number, readonly end: number) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string): never {
    throw new ComponentError(`malformed component: ${what} at byte ${this.pos}`);
  }

  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos++]!;
  }

  peek(): number {
    if (this.pos >= this.end) this.fail('unexpected end');
    return this.bytes[this.pos]!;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) this.fail('LEB128 integer too long');
      const b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) this.fail('integer out of range');
        return result;
      }
    }
  }

  /** A signed 33-bit LEB128 (valtype: a negative value is a primitive opcode, else a type index). */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      if (shift > 28) this.fail('LEB128 integer too long');
      b = this.u8();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (b & 0x40) result -= 2 ** shift;
    return result;
  }

  /** A vector count, refused when the bytes left cannot hold that many items of `minItemBytes`. */
  count(minItemBytes = 1): number {
    const n = this.u32();
    if (n * minItemBytes > this.end - this.pos) this.fail(`vector of ${n} items is longer than its section`);
    return n;
  }

  name(): string {
    const len = this.count();
    const s = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(s);
    } catch {
      return this.fail('name is not UTF-8');
    }
  }

  /** An import or export name (`0x00` plain, `0x01` the older interface-name form). */
  externName(): string {
    const tag = this.u8();
    if (tag !== 0x00 && tag !== 0x01) this.fail(`unknown name form 0x${tag.toString(16)}`);
    return this.name();
  }

  /** An optional item: `0x00` none, `0x01` then the item. */
  optional<T>(read: () => T): T | undefined {
    const tag = this.u8();
    if (tag === 0) return undefined;
    if (tag !== 1) this.fail(`bad option tag 0x${tag.toString(16)}`);
    return read();
  }
}
