// The "tsray/remote" generator: every mapped WIT type gets its CBOR writer and
// reader, resources become actor namespaces, and functions with types that
// have no mapping are listed instead of getting a half-working stub.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';

const { loadWorld } = await source('host/wit/load.ts');
const { remoteStubs } = await source('host/toolchain/remote-stubs.ts');

const ROOT = new URL('../../..', import.meta.url).pathname;
const RUNTIME = readFileSync(join(ROOT, 'wit', 'runtime.wit'), 'utf8');
const world = (text) => loadWorld({ files: [{ path: 't.wit', text }, { path: 'runtime.wit', text: RUNTIME }] }, 'w').world;

t.test('mapped types, actors, and the functions left out', async (t) => {
  const src = remoteStubs(world(`package demo:s;
interface a { resource box { constructor(n: u32); put: func(x: f64) -> bool; take: func() -> option<u32>; } }
world w {
  include tsray:runtime/task;
  use tsray:runtime/objects.{object-ref};
  use tsray:runtime/actors.{actor-handle};
  record pt { x: u32 }
  export ints: func(a: s8, b: u16, c: s64, d: u64) -> u32;
  export refs: func(r: object-ref, rs: list<object-ref>, h: actor-handle) -> list<object-ref>;
  export nothing: func(s: string);
  export rec: func(p: pt) -> u32;
  export a;
}`));
  t.match(src, /export namespace ints \{/);
  t.match(src, /w\.int\(<i64>a_\); w\.uint\(<u64>b_\); w\.int\(<i64>c_\); w\.uint\(<u64>d_\);/, 'signed and unsigned integers');
  t.match(src, /export function get\(ref: ObjectRef\): u32 \{ const r = __get\(ref\); return <u32>r\.int\(\); \}/);
  t.match(src, /w\.ref\(r_\); w\.array\(<u32>rs_\.length\); for .* w\.ref\(rs_\[i\]\); w\.map\(1\)\.str\("id"\)\.str\(h_\.id\);/, 'refs, lists of refs and actor handles');
  t.match(src, /get\(ref: ObjectRef\): ObjectRef\[\] \{ const r = __get\(ref\); return __refs\(r\); \}/);
  t.match(src, /export namespace nothing \{[^]*get\(ref: ObjectRef\): void \{ __get\(ref\); \}/, 'a function without a result still waits');
  t.match(src, /export namespace Box \{[^]*create\(n_: u32, options: CborWriter \| null = null\): ActorHandle/, 'a resource is an actor class');
  t.match(src, /export function put\(actor: ActorHandle, x_: f64\): bool \{ .* actor\.call\("put", w\); return r\.bool\(\); \}/);
  t.match(src, /No typed stub .*: rec, demo:s\/a#\[method\]box\.take/, 'records and options are listed, not stubbed');
  t.notMatch(src, /namespace rec/);
});
