// The d.ts generator: every WIT type kind maps to the JavaScript value tsray
// gives and takes at the driver, and the output is valid TypeScript.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { source } from '../../helpers/source.mjs';

const { loadWorld } = await source('host/wit/load.ts');
const { generateDts, dtsPath } = await source('host/toolchain/dts.ts');

const ROOT = new URL('../../..', import.meta.url).pathname;
const RUNTIME = readFileSync(join(ROOT, 'wit', 'runtime.wit'), 'utf8');

/** The world `name` of WIT `text` (tsray:runtime is available, as in a build). */
function world(text, name) {
  return loadWorld({ files: [{ path: 't.wit', text }, { path: 'runtime.wit', text: RUNTIME }] }, name).world;
}

/** Throws unless `text` parses as TypeScript. */
function parses(t, text) {
  const out = ts.transpileModule(text, { reportDiagnostics: true, fileName: 'types.ts', compilerOptions: { target: ts.ScriptTarget.ES2022 } });
  t.same(out.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'valid TypeScript');
}

/** The text between `start` and the next line that closes it, for scoped matches. */
function block(text, start) {
  const at = text.indexOf(start);
  if (at < 0) throw new Error(`no '${start}' in:\n${text}`);
  const end = text.indexOf('\n}\n', at);
  return text.slice(at, end + 2);
}

t.test('every WIT type kind of the kitchen fixture', async (t) => {
  const wit = readFileSync(join(ROOT, 'test', 'fixtures', 'kitchen', 'kitchen.wit'), 'utf8');
  const dts = generateDts(world(wit, 'kitchen'), { source: 'kitchen.wasm' });
  parses(t, dts);
  t.match(dts, /^\/\/ Types of the exports of component world tsray:kitchen\/kitchen \(kitchen\.wasm\)\./);
  // Scalars: s64/u64 are bigint, the rest number / boolean / string.
  t.match(dts, "echoBool(v: boolean): boolean;");
  t.match(dts, "'echo-s8'(v: number): number;");
  t.match(dts, "echoS64(v: bigint): bigint;");
  t.match(dts, "echoU64(v: bigint): bigint;");
  t.match(dts, "echoF32(v: number): number;");
  t.match(dts, "echoChar(v: string): string;");
  // Lists of each number kind are typed arrays; other lists are arrays.
  const arrays = { U8s: 'Uint8Array', S8s: 'Int8Array', U16s: 'Uint16Array', S16s: 'Int16Array', U32s: 'Uint32Array', S32s: 'Int32Array',
    U64s: 'BigUint64Array', S64s: 'BigInt64Array', F32s: 'Float32Array', F64s: 'Float64Array' };
  for (const [k, arr] of Object.entries(arrays)) t.match(dts, `echo${k}(v: ${arr}): ${arr};`, `list<${k.slice(0, -1).toLowerCase()}>`);
  t.match(dts, 'echoStrings(v: string[]): string[];');
  t.match(dts, 'echoBools(v: boolean[]): boolean[];');
  t.match(dts, 'echoNested(v: Uint32Array[]): Uint32Array[];');
  t.match(dts, 'echoPoints(v: Point[]): Point[];');
  // Records: an interface with camelCase fields; option fields required but possibly undefined.
  t.match(block(dts, 'export interface Point '), 'x: number;\n  y: number;\n  label: string;');
  const bag = block(dts, 'export interface Bag ');
  t.match(bag, 'tags: string[];');
  t.match(bag, 'shade: Color;');
  t.match(bag, 'access: Perms;');
  t.match(bag, 'nick: string | undefined;');
  t.match(bag, "nested: { tag: 'none' } | { tag: 'some'; val: number } | undefined;", 'an option in an option is tagged');
  // Enums are their case names, flags objects of optional booleans, variants tagged unions.
  t.match(dts, "export type Color = 'red' | 'green' | 'blue';");
  t.match(block(dts, 'export interface Perms '), 'read?: boolean;\n  write?: boolean;\n  exec?: boolean;');
  t.match(dts, "export type Shape = { tag: 'circle'; val: number } | { tag: 'rect'; val: [number, number] } | { tag: 'poly'; val: Point[] } | { tag: 'nothing' } | { tag: 'big'; val: bigint };");
  t.match(dts, 'echoTuple(v: [number, string, number]): [number, string, number];');
  t.match(dts, 'echoOptU32(v: number | undefined): number | undefined;');
  // A result parameter is tagged; a top-level result returns its ok value (an err is thrown).
  t.match(dts, "echoResult(v: { tag: 'ok'; val: string } | { tag: 'err'; val: number }): string;");
  t.match(dts, 'checkUnit(fail: boolean): void;');
  // Interface functions also by `iface#name`.
  t.match(dts, "'tsray:kitchen/types#echo-bag'(v: Bag): Bag;");
  // Resource handles cannot be passed from a driver, and come back opaque.
  t.match(dts, 'consumeBox(b: never): string;');
  t.match(dts, 'makeBox(v: string): unknown;');
  // Resources with a constructor are actor classes: create, methods (self left out), statics listed.
  const box = block(dts, 'export interface BoxActor ');
  t.match(box, 'create(v: string): void;');
  t.match(box, 'get(): string;');
  t.match(box, 'set(v: string): void;');
  t.match(box, 'merge(other: never): string;');
  t.notMatch(box, /make\(/, 'a static is no method');
  t.match(dts, /Static functions \(not callable from a driver\): make/);
  t.match(block(dts, 'export interface Component '), /actors: \{\n {4}box: BoxActor;\n {4}'tsray:kitchen\/types#box': BoxActor;\n {2}\};/);
  // Each named type is declared once.
  t.equal(dts.match(/export interface Point /g).length, 1);
});

t.test('names: reserved words, collisions, ambiguity, actor handles, empty worlds', async (t) => {
  const dts = generateDts(world(`package demo:n;
interface a {
  record point { x: u32 }
  same: func(p: point) -> u32;
  only-a: func(new: u32, class: string) -> u32;
}
interface b {
  record point { x: string, y-pos: s64 }
  same: func(p: point) -> u32;
  resource keeper {
    constructor();
    release: func() -> u32;
    id: func() -> string;
  }
  resource bare { get: func() -> u32; }
}
world names {
  include tsray:runtime/task;
  use tsray:runtime/actors.{actor-handle};
  record component { v: u8 }
  export a;
  export b;
  export pass: func(h: actor-handle, c: component) -> actor-handle;
}`, 'names'));
  parses(t, dts);
  t.match(dts, 'onlyA(new_: number, class_: string): number;', 'reserved parameter names are escaped');
  t.match(dts, 'export interface Point {\n  x: number;\n}');
  t.match(dts, 'export interface Point2 {\n  x: string;\n  yPos: bigint;\n}', 'a second record of the same name gets its own name');
  t.match(dts, 'export interface Component2 ', 'a WIT type does not take the name Component');
  const fns = block(dts, 'export interface Component {');
  t.notMatch(fns, /^\s+same\(/m, 'an ambiguous name is left out');
  t.match(fns, "'demo:n/a#same'(p: Point): number;");
  t.match(fns, "'demo:n/b#same'(p: Point2): number;");
  t.match(dts, "import type { ActorHandle } from 'tsray';");
  t.match(fns, 'pass(h: ActorHandle, c: Component2): { id: string };', 'an actor-handle parameter is a driver handle; a result is its id');
  const keeper = block(dts, 'export interface KeeperActor ');
  t.match(keeper, 'create(): void;');
  t.match(keeper, 'release(): number;', 'methods named like handle members stay (reached with method())');
  t.notMatch(dts, /BareActor|bare:/, 'a resource without a constructor is no actor class');
});

t.test('a world with no exports', async (t) => {
  const dts = generateDts(world('package demo:e;\nworld empty { include tsray:runtime/task; }', 'empty'));
  parses(t, dts);
  t.match(dts, 'export interface Component {\n  functions: {};\n  actors: {};\n}');
});

t.test('dtsPath puts the types beside the component', async (t) => {
  t.equal(dtsPath('build/x.wasm'), 'build/x.d.ts');
  t.equal(dtsPath('out/x.component'), 'out/x.component.d.ts');
});
