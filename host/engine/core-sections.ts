/**
 * Just enough of the core WebAssembly binary format to read a module's
 * function signatures, imports, exports and globals, and to find where its
 * sections lie. The host checks a component's core module against its WIT
 * with this, and rewrites the export section to run it as a sandbox.
 */
import { ComponentError } from '../errors.js';
import { readU32 } from '../util/leb128.js';

export const SECTION = { type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, elem: 9, code: 10, data: 11 } as const;

/** The external kinds of imports and exports. */
export const KIND = { func: 0, table: 1, memory: 2, global: 3, tag: 4 } as const;

export interface FuncSig { params: string[]; results: string[] }
export interface CoreImport { module: string; name: string; kind: number; sig?: FuncSig }
export interface CoreExport { name: string; kind: number; index: number }
export interface CoreGlobal { type: string; mutable: boolean }

/** A section, with `at` the offset of its id byte. */
/** A section of a WebAssembly binary (core module or component): its id and the byte range of its contents. */
export interface Section { id: number; start: number; end: number }

export interface CoreSection extends Section { at: number }

export interface CoreInfo {
  sections: CoreSection[];
  imports: CoreImport[];
  exports: CoreExport[];
  /** Signature of every function, imported ones first (the function index space). */
  funcs: FuncSig[];
  /** Defined (not imported) globals; their indices start at `importedGlobals`. */
  globals: CoreGlobal[];
  importedGlobals: number;
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

function bad(what: string): never {
  throw new ComponentError(`malformed core module: ${what}`);
}

/** A cursor over one section's bytes. */
class Reader {
  constructor(private readonly b: Uint8Array, public pos: number, private readonly end: number) {}

  byte(): number {
    if (this.pos >= this.end) bad('a section ends early');
    return this.b[this.pos++]!;
  }

  u32(): number {
    const [v, next] = readU32(this.b, this.pos);
    if (next > this.end) bad('a section ends early');
    this.pos = next;
    return v;
  }

  /** Skips a signed or 64-bit LEB128 integer. */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    bad('LEB128 integer too long');
  }

  skip(n: number): void {
    if (this.pos + n > this.end) bad('a section ends early');
    this.pos += n;
  }

  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return new TextDecoder().decode(this.b.subarray(start, start + len));
  }

  valtype(): string {
    const t = this.byte();
    const known = VALTYPES[t];
    if (known) return known;
    if (t === 0x63 || t === 0x64) { this.skipLeb(); return 'ref'; } // a typed reference: its heap type follows
    bad(`unknown value type 0x${t.toString(16)}`);
  }

  limits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }

  /** Skips a constant expression (a global's initial value), up to its `end`. */
  constExpr(): void {
    for (;;) {
      const op = this.byte();
      switch (op) {
        case 0x0b: return;
        case 0x41: case 0x42: this.skipLeb(); break; // i32/i64.const
        case 0x43: this.skip(4); break;
        case 0x44: this.skip(8); break;
        case 0x23: case 0xd2: this.u32(); break; // global.get, ref.func
        case 0xd0: this.skipLeb(); break; // ref.null heaptype
        case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended-const arithmetic
        case 0xfd: if (this.u32() !== 12) bad('unsupported constant expression'); this.skip(16); break; // v128.const
        default: bad(`unsupported constant expression opcode 0x${op.toString(16)}`);
      }
    }
  }
}

/** The top-level sections of a core module, after checking its header. */
export function coreSections(core: Uint8Array): CoreSection[] {
  if (core.length < 8 || core[0] !== 0 || core[1] !== 0x61 || core[2] !== 0x73 || core[3] !== 0x6d || core[6] !== 0 || core[7] !== 0) {
    bad('bad header');
  }
  const out: CoreSection[] = [];
  let pos = 8;
  while (pos < core.length) {
    const id = core[pos]!;
    const [size, start] = readU32(core, pos + 1);
    if (start + size > core.length) bad(`section ${id} runs past the end`);
    out.push({ id, at: pos, start, end: start + size });
    pos = start + size;
  }
  return out;
}

/** Reads the signatures, imports, exports and globals of a core module. */
export function readCore(core: Uint8Array): CoreInfo {
  const sections = coreSections(core);
  const info: CoreInfo = { sections, imports: [], exports: [], funcs: [], globals: [], importedGlobals: 0 };
  const types: FuncSig[] = [];
  const typeAt = (i: number): FuncSig => types[i] ?? bad(`type index ${i} out of range`);
  for (const s of sections) {
    const r = new Reader(core, s.start, s.end);
    const count = s.id >= SECTION.type && s.id <= SECTION.export ? r.u32() : 0;
    for (let i = 0; i < count; i++) {
      switch (s.id) {
        case SECTION.type: {
          if (r.byte() !== 0x60) bad('only function types are supported');
          const params = Array.from({ length: r.u32() }, () => r.valtype());
          const results = Array.from({ length: r.u32() }, () => r.valtype());
          types.push({ params, results });
          break;
        }
        case SECTION.import: {
          const imp: CoreImport = { module: r.name(), name: r.name(), kind: r.byte() };
          if (imp.kind === KIND.func) { imp.sig = typeAt(r.u32()); info.funcs.push(imp.sig); }
          else if (imp.kind === KIND.table) { r.valtype(); r.limits(); }
          else if (imp.kind === KIND.memory) r.limits();
          else if (imp.kind === KIND.global) { r.valtype(); r.byte(); info.importedGlobals++; }
          else if (imp.kind === KIND.tag) { r.byte(); r.u32(); }
          else bad(`unknown import kind ${imp.kind}`);
          info.imports.push(imp);
          break;
        }
        case SECTION.function: info.funcs.push(typeAt(r.u32())); break;
        case SECTION.global: info.globals.push({ type: r.valtype(), mutable: r.byte() === 1 }); r.constExpr(); break;
        case SECTION.export: info.exports.push({ name: r.name(), kind: r.byte(), index: r.u32() }); break;
        default: r.pos = s.end; i = count; // tables and memories: nothing the host reads
      }
    }
  }
  return info;
}

/** `(i32, i32) -> i32`, for messages. */
export function showSig(s: FuncSig | undefined): string {
  return s ? `(${s.params.join(', ')}) -> (${s.results.join(', ')})` : 'an unknown signature';
}

export function sameSig(a: FuncSig | undefined, b: FuncSig): boolean {
  return !!a && a.params.join() === b.params.join() && a.results.join() === b.results.join();
}
