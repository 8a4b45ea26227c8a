// Any world builds: one that imports nothing runs as a task with a core module
// that imports nothing, and interfaces that only name types pass the sandbox check.
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { build, load, BuildError, TaskError } from 'tsray';
import { scratch } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';

const coreImports = (core) => WebAssembly.Module.imports(new WebAssembly.Module(core));

const PROBE_WIT = 'package ux:probe;\nworld probe { export add: func(a: s32, b: s32) -> s32; }\n';
const PROBE_TS = `export function add(a: i32, b: i32): i32 {
  if (a < 0) throw new Error("negative a");
  return a + b;
}
`;

const probe = (async () => {
  const dir = scratch({ 'probe.wit': PROBE_WIT, 'probe.ts': PROBE_TS });
  return build({ entry: join(dir, 'probe.ts'), wit: join(dir, 'probe.wit'), world: 'probe', out: join(dir, 'probe.wasm') });
})();

t.test('a world that imports nothing builds to a core module that imports nothing', async (t) => {
  const r = await probe;
  t.strictSame(r.world.imports, [], 'the world imports nothing');
  t.strictSame(coreImports(r.core), [], 'nor does its core module');
});

t.test('a plain world runs as a task and in-process', async (t) => {
  const { component } = await probe;
  const mod = await load(component);
  t.equal(await mod.call('add', [2, 3]), 5, 'in-process');
  await withRuntime({ numCpus: 1 }, async () => {
    const remote = await tsray.load(component);
    t.equal(await tsray.get(remote.fn('add').remote(20, 22)), 42, 'as a task');
  });
});

t.test("a plain world's abort traps: a TaskError, and the next task runs", async (t) => {
  const { component } = await probe;
  const mod = await load(component);
  const inProcess = await caught(t, () => mod.call('add', [-1, 1]));
  t.ok(inProcess instanceof TaskError, `in-process: TaskError (got ${inProcess?.constructor?.name})`);
  await withRuntime({ numCpus: 1 }, async () => {
    const add = (await tsray.load(component)).fn('add');
    const e = await caught(t, () => tsray.get(add.remote(-1, 1), { timeoutMs: 20_000 }));
    t.ok(e instanceof TaskError, `as a task: TaskError (got ${e?.constructor?.name}: ${e?.message})`);
    t.equal(await tsray.get(add.remote(1, 1)), 2, 'the next task runs');
  });
});

const WORDS_TS = `export class Entry { word: string = ""; count: u32 = 0; }
export function top(text: string, n: u32): Array<Entry> {
  const e = new Entry();
  e.word = text;
  e.count = n;
  return [e];
}
`;
const wordsWit = (world) => `package ux:words;
interface types { record entry { word: string, count: u32 } }
interface tools { shout: func(s: string) -> string; }
interface things { resource thing { constructor(); } }
${world}
`;

async function buildWords(world, name = 'words') {
  const dir = scratch({ 'w.wit': wordsWit(world), 'w.ts': WORDS_TS });
  return build({ entry: join(dir, 'w.ts'), wit: dir, world: name }).then((r) => r, (e) => e);
}

t.test('a world sharing records through a types-only interface builds', async (t) => {
  const used = await buildWords('world words { use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }');
  t.notOk(used instanceof Error, `'use types.{entry}' builds (${used?.message ?? 'ok'})`);
  t.strictSame(coreImports(used.core), [], 'its core module imports nothing');
  const imported = await buildWords('world words { import types; use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }');
  t.notOk(imported instanceof Error, `'import types;' builds (${imported?.message ?? 'ok'})`);
  t.strictSame(imported.world.imports.map((i) => i.name), ['ux:words/types']);
  const withTask = await buildWords('world words { include tsray:runtime/task; use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }');
  t.notOk(withTask instanceof Error, `with the runtime imports too (${withTask?.message ?? 'ok'})`);
});

t.test('a world sharing records through a types-only interface loads, inspects and runs', async (t) => {
  for (const world of [
    'world words { use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }',
    'world words { import types; use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }',
  ]) {
    const built = await buildWords(world);
    const mod = await load(built.component);
    t.strictSame(await mod.call('top', ['hi', 3]), [{ word: 'hi', count: 3 }], `in-process: ${world.slice(14, 40)}`);
    t.equal(mod.engineName, 'lean', 'a types-only import keeps the lean engine');
    await withRuntime({ numCpus: 1 }, async () => {
      const remote = await tsray.load(built.component);
      t.strictSame(await tsray.get(remote.fn('top').remote('yo', 7)), [{ word: 'yo', count: 7 }], 'as a task');
    });
  }
});

t.test('an imported interface with functions or resources is still refused', async (t) => {
  const fns = await buildWords('world words { import tools; use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }');
  t.ok(fns instanceof BuildError, 'functions: BuildError');
  t.match(fns.message, /imports 'ux:words\/tools', which is outside tsray:runtime and tsray:accel: a task may import only tsray's interfaces and interfaces that hold only types/);
  const res = await buildWords('world words { import things; use types.{entry}; export top: func(text: string, n: u32) -> list<entry>; }');
  t.ok(res instanceof BuildError, 'resources: BuildError');
  t.match(res.message, /imports 'ux:words\/things', which is outside tsray:runtime/);
});

t.test('a core import the world does not have is named at build, not by the component encoder', async (t) => {
  const dir = scratch({
    'probe.wit': PROBE_WIT,
    'probe.ts': '// @ts-ignore: decorator\n@external("foo:bar/baz", "zap") declare function zap(): i32;\nexport function add(a: i32, b: i32): i32 { return a + b + zap(); }\n',
  });
  const err = await build({ entry: join(dir, 'probe.ts'), wit: join(dir, 'probe.wit'), world: 'probe' }).then(() => null, (e) => e);
  t.ok(err instanceof BuildError, `BuildError (got ${err?.constructor?.name})`);
  t.match(err.message, /the guest imports 'zap' from 'foo:bar\/baz' \(an @external declaration\?\), which world probe does not import/);
});
