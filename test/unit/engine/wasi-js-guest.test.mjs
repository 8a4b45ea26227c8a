// Integration: a JavaScript guest built with componentize-js (default features: it imports WASI) and transpiled by
// jco-transpile runs on nothing but the WASI host of host/engine/wasi/, each capability doing what the contract says.
// The guest is built once per content and shared with other test files (test/helpers/js-guest.mjs).
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import { source } from '../../helpers/source.mjs';
import { transpileGuest } from '../../fixtures/js-guest/build.mjs';
import { jsGuest } from '../../helpers/js-guest.mjs';

t.setTimeout(600_000);

const wasi = await source('host/engine/wasi/index.ts');
const { ComponentError } = await source('host/errors.ts');

const ALL = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'];
const WALL_MS = 1_700_000_000_123;

const dir = mkdtempSync(join(tmpdir(), 'tsray-wasi-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const component = readFileSync(await jsGuest());
const glue = await import(await transpileGuest(component, dir));
const modules = new Map();
const getCoreModule = (name) => {
  if (!modules.has(name)) modules.set(name, new WebAssembly.Module(readFileSync(join(dir, name))));
  return modules.get(name);
};

/** A fresh instance granted `granted`, its log lines kept, its wall clock at WALL_MS (moving 1 ms per read). */
function instance(granted) {
  const io = {
    lines: [], clock: BigInt(WALL_MS) * 1_000_000n,
    write(stream, text) { io.lines.push([stream, text]); },
    sleep() {},
    checkpoint() {},
    now() { return io.clock; },
  };
  const host = wasi.wasiHost(new Set(granted), io);
  // The guest imports no tsray interfaces: the WASI host is all it is given.
  return { io, host, exports: glue.instantiate(getCoreModule, host.imports) };
}

t.test('the contract names exactly what the component imports that needs a grant', async (t) => {
  const imports = [...(await componentWit(component)).matchAll(/^\s*import ([\w:/.@-]+);/gm)].map((m) => m[1]);
  t.ok(imports.includes('wasi:http/outgoing-handler@0.2.10'), 'imports read from the component');
  t.same(wasi.unknownImports(imports), [], 'every import is served');
  t.same(wasi.missingGrants(imports, []).sort(), [
    "wasi:cli/stderr@0.2.12 (grant 'wasi:cli/stderr')",
    "wasi:cli/stdout@0.2.12 (grant 'wasi:cli/stdout')",
    "wasi:clocks/monotonic-clock@0.2.12 (grant 'wasi:clocks')",
    "wasi:clocks/wall-clock@0.2.12 (grant 'wasi:clocks')",
    "wasi:random/random@0.2.12 (grant 'wasi:random')",
  ]);
  t.same(wasi.missingGrants(imports, ALL), []);
  t.throws(() => wasi.checkImports("component 'js-guest'", imports, ['wasi:clocks']), { code: 'ERR_CAPABILITY' }, 'refused by default');
});

t.test('granted clocks, random and stdio: calls work, console output reaches the log, Date and Math.random work', async (t) => {
  const { io, host, exports } = instance(ALL);
  t.equal(exports.add(2, 3), 5);
  t.match(exports.greet('x'), /^hello x /);
  t.same(io.lines, [['stdout', 'hi from js x']], 'console.log became one stdout log line');
  exports.complain('that went badly');
  t.same(io.lines.at(-1), ['stderr', 'that went badly'], 'console.error goes to stderr');
  host.flush();
  t.equal(io.lines.length, 2, 'nothing was left unfinished');
  t.equal(exports.now(), WALL_MS, 'Date.now() reads the injected wall clock');
  const a = exports.rand();
  const b = exports.rand();
  t.ok(a >= 0 && a < 1 && b >= 0 && b < 1 && a !== b, 'Math.random() works');
  const c = new exports.counter.Counter(5);
  t.equal(c.incr(2), 7, 'a resource keeps its state');
  t.equal(c.incr(1), 8);
});

t.test('without wasi:clocks every call fails, naming the capability', async (t) => {
  const { exports } = instance(['wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr']);
  const err = t.throws(() => exports.add(2, 3));
  t.ok(err instanceof ComponentError);
  t.equal(err.code, 'ERR_CAPABILITY');
  t.match(err.message, "needs the capability 'wasi:clocks'");
});

t.test('without wasi:cli/stdout the guest runs until it prints', async (t) => {
  const { io, exports } = instance(['wasi:clocks', 'wasi:random', 'wasi:cli/stderr']);
  t.equal(exports.add(2, 3), 5);
  const err = t.throws(() => exports.greet('x'));
  t.equal(err.code, 'ERR_CAPABILITY');
  t.match(err.message, "needs the capability 'wasi:cli/stdout'");
  t.same(io.lines, [], 'nothing reached the log');
});
