// What the object store promises every reader: exact values or typed errors (never undefined), pins
// with a deterministic end, immutability (get copies, getView is checked, guests get copies), and
// get failing fast. Runs without exposing the garbage collector: nothing here may depend on it.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { build } from 'tsray';
import { scratch, prebuilt } from '../helpers/components.mjs';
import { withRuntime, caught } from '../helpers/runtime.mjs';

const MiB = 2 ** 20;
const spillDir = () => mkdtempSync(join(tmpdir(), 'tsray-guarantees-'));
const node = () => tsray.memory().nodes[0];
const pinsOf = (ref) => node().references.filter((r) => r.objectRef === ref.id && r.referenceType === 'PINNED_IN_MEMORY').length;

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h >>> 0;
}

/** What blobs' `fill(len, seed)` makes (xorshift32, little-endian words; len a multiple of 4). */
function fillLike(len, seed) {
  const out = new Uint8Array(len);
  const w = new DataView(out.buffer);
  let x = (seed | 1) >>> 0;
  for (let i = 0; i + 4 <= len; i += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    w.setUint32(i, x, true);
  }
  return out;
}

const sameBytes = (a, b) => a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** A guest that overwrites the list it is given, then reports what it sees. */
async function scribbler() {
  const dir = scratch({
    'w.wit': 'package demo:scribble;\nworld scribble {\n  include tsray:runtime/task;\n  export scribble: func(data: list<u8>) -> u32;\n  export checksum: func(data: list<u8>) -> u32;\n}\n',
    'g.ts': [
      'export function scribble(data: Uint8Array): u32 {',
      '  for (let i = 0; i < data.length; i++) data[i] = 0xff;',
      '  return checksum(data);',
      '}',
      'export function checksum(data: Uint8Array): u32 {',
      '  let h: u32 = 2166136261;',
      '  for (let i = 0; i < data.length; i++) { h ^= unchecked(data[i]); h *= 16777619; }',
      '  return h;',
      '}',
      '',
    ].join('\n'),
  });
  const r = await build({ entry: join(dir, 'g.ts'), wit: dir, world: 'scribble' });
  return tsray.load(r.component);
}

t.test('a task result that finds the store full of pinned views comes back exact, not undefined', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const views = [];
    for (let i = 0; i < 7; i++) views.push(await tsray.getView(tsray.put(new Uint8Array(8 * MiB).fill(i))));
    t.ok(views.every((v, i) => v.value[123] === i && v.value.buffer instanceof SharedArrayBuffer), 'seven live views pin 56 MiB of a 64 MiB store');
    const full = await caught(t, () => tsray.put(new Uint8Array(16 * MiB)));
    t.ok(full instanceof tsray.ObjectStoreFullError, 'a put that needs the pinned room fails with ObjectStoreFullError');
    t.match(full?.message, /Release views from getView\(\)/, 'telling what to release');
    const ref = blobs.fn('fill').remote(40 * MiB, 7);
    const got = await tsray.get(ref);
    t.ok(got instanceof Uint8Array, 'get returns a Uint8Array (the store-full fallback kept it in the heap)');
    t.ok(sameBytes(got, fillLike(40 * MiB, 7)), 'with exactly the bytes the task returned');
    t.equal(await tsray.get(blobs.fn('checksum').remote(ref)), fnv(got), 'a task given the fallen-back result reads the same bytes');
    const v = await tsray.getView(ref);
    t.ok(sameBytes(v.value, got), 'getView of it is exact too');
    v.release();
    for (const x of views) x.release();
  });
});

t.test('a task result larger than the whole store comes back exact; a put of one is a typed error', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: spillDir() }, async () => {
    const ref = blobs.fn('fill').remote(24 * MiB, 3);
    const got = await tsray.get(ref);
    t.ok(got instanceof Uint8Array && sameBytes(got, fillLike(24 * MiB, 3)), 'the 24 MiB result of a 16 MiB store is exact');
    const e = await caught(t, () => tsray.put(new Uint8Array(24 * MiB)));
    t.ok(e instanceof tsray.ObjectStoreFullError, 'a put that can never fit throws ObjectStoreFullError');
  });
});

t.test('put, get, drop in a loop on a small store never fills it (no garbage collection needed)', async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 4 * MiB, spillDir: spillDir() }, async () => {
    const arr = new Float64Array(MiB / 8).map((_, i) => i);
    for (let i = 0; i < 100; i++) {
      const ref = tsray.put(arr);
      const v = await tsray.get(ref);
      if (v[1000] !== 1000) t.fail(`round ${i} read ${v[1000]}`);
      ref.release();
    }
    t.equal(node().store.usedBytes, 0, '100 rounds of 1 MiB through a 4 MiB store: nothing is left pinned');
    for (let i = 0; i < 100; i++) {
      const ref = tsray.put(arr);
      const v = await tsray.getView(ref);
      try {
        if (v.value[1000] !== 1000) t.fail(`view round ${i} read ${v.value[1000]}`);
      } finally {
        v.release();
        ref.release();
      }
    }
    t.equal(node().store.usedBytes, 0, 'the same with zero-copy views released each round');
  });
});

t.test("Ray's test_spill_deadlock: random puts and gets of a replay buffer on a store that must spill", async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 8 * MiB, minSpillingSize: MiB, spillDir: spillDir() }, async () => {
    const arr = new Float64Array(MiB / 8).map(() => Math.random());
    const buffer = [];
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let gets = 0;
    for (let i = 0; i < 50; i++) {
      if (buffer.length === 0 || rand() < 0.5) {
        for (let k = 0; k < 5; k++) buffer.push(tsray.put(arr));
      } else {
        for (let k = 0; k < 10; k++) {
          const sample = await tsray.get(buffer[Math.floor(rand() * buffer.length)], { timeoutMs: 0 });
          gets++;
          if (!sameBytes(sample, arr)) t.fail('a sample differs');
        }
      }
    }
    t.ok(gets > 0, `${buffer.length} puts and ${gets} gets of 1 MiB through an 8 MiB store, no ObjectStoreFullError`);
    t.ok(node().store.spill.spilledObjects > 0, 'objects were spilled and restored to make room');
    for (const r of buffer) r.release();
  });
});

t.test('getView pins until release(), deterministically', async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: spillDir() }, async () => {
    const ref = tsray.put({ a: new Float64Array(MiB / 8).fill(2), b: new Int32Array(MiB / 4).fill(-1), note: 'x' });
    const v = await tsray.getView(ref);
    t.ok(v instanceof tsray.ObjectView, 'an ObjectView');
    t.ok(v.value.a.buffer instanceof SharedArrayBuffer && v.value.b.buffer instanceof SharedArrayBuffer, 'its typed arrays view shared memory (no copy)');
    t.equal(v.value.note, 'x');
    t.equal(pinsOf(ref), 1, 'PINNED_IN_MEMORY while it lives');
    const copy = await tsray.get(ref);
    t.notOk(copy.a.buffer instanceof SharedArrayBuffer, 'get gives a private copy meanwhile');
    t.ok(copy.a.byteOffset === 0 && copy.a.buffer.byteLength === MiB && copy.b.buffer.byteLength === MiB, 'each typed array with a buffer of its own, of its own size');
    t.ok(copy.a[7] === 2 && copy.b[7] === -1, 'holding the stored values');
    v.release();
    t.equal(pinsOf(ref), 0, 'release() ends the pin at once');
    t.ok(v.released);
    t.throws(() => v.value, { code: 'ERR_INVALID_ARGUMENT' }, 'a released view refuses to give its value');
    v.release();
    v[Symbol.dispose]();
    t.equal(pinsOf(ref), 0, 'release is idempotent (and Symbol.dispose is release)');
    const id = ref.id;
    ref.release();
    t.notOk(node().references.some((r) => r.objectRef === id), 'the object is freed with its last ref');
    const both = await tsray.getView([tsray.put(new Uint8Array(2 * MiB).fill(1)), tsray.put(5)]);
    t.equal(both.value[0][9], 1);
    t.equal(both.value[1], 5, 'a list of refs gives one view of their values');
    t.equal(node().summary.pinnedCount, 1, 'only the object in shared memory is pinned');
    both.release();
    t.equal(node().summary.pinnedCount, 0);
  });
});

t.test('objects are immutable: writing into what get returns changes nothing for anyone else', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const data = new Uint8Array(4 * MiB).map((_, i) => (i * 31 + 7) & 0xff);
    const big = tsray.put(data);
    const g1 = await tsray.get(big);
    g1.fill(0);
    t.ok(sameBytes(await tsray.get(big), data), 'a large object: a later get sees the original');
    t.equal(await tsray.get(blobs.fn('checksum').remote(big)), fnv(data), 'and so does a task');

    const cases = [
      ['a small Float64Array', new Float64Array([1, 2, 3]), (v) => { v[0] = 99; }],
      ['an array', [1, [2, 3]], (v) => { v[1][0] = 99; v.push(4); }],
      ['an object', { a: { b: 1 }, m: new Map([['k', [1]]]) }, (v) => { v.a.b = 99; v.m.get('k').push(2); }],
      ['a Date inside', { d: new Date(0) }, (v) => { v.d.setTime(5); }],
      ['a Buffer', Buffer.from('abc'), (v) => { v[0] = 0; }],
    ];
    for (const [what, value, scribble] of cases) {
      const ref = tsray.put(value);
      const first = await tsray.get(ref);
      scribble(first);
      t.strictSame(await tsray.get(ref), value, `${what}: a later get sees the original`);
      const view = await tsray.getView(ref);
      scribble(view.value);
      view.release();
      t.strictSame(await tsray.get(ref), value, `${what}: getView of a small value is a copy too`);
    }
    t.ok(Buffer.isBuffer(await tsray.get(tsray.put(Buffer.from('abc')))), 'a Buffer comes back as a Buffer');
    const d = new Date(0);
    const dref = tsray.put({ d });
    d.setTime(7);
    t.equal((await tsray.get(dref)).d.getTime(), 0, 'put copies a Date too: later changes to it do not reach the object');

    const small = blobs.fn('fill').remote(64, 9);
    const r1 = await tsray.get(small);
    r1[0] ^= 0xff;
    t.ok(sameBytes(await tsray.get(small), fillLike(64, 9)), "a task's small result: the same");
    t.equal(await tsray.get(blobs.fn('checksum').remote(small)), fnv(fillLike(64, 9)), 'and a task given it reads the original');

    const x = 41;
    t.equal(await tsray.get(tsray.put(x)), 41, 'primitives pass as they are');
  });
});

t.test('a write through a zero-copy view is never silent: the next reader gets ObjectLostError', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const data = new Uint8Array(2 * MiB).fill(4);
    const ref = tsray.put(data);
    const v = await tsray.getView(ref);
    const again = await tsray.getView(ref);
    t.ok(sameBytes(again.value, data), 'two views of an untouched object read fine');
    again.release();
    v.value[100] = 5;
    const e1 = await caught(t, () => tsray.get(ref));
    t.ok(e1 instanceof tsray.ObjectLostError, 'get of the changed object throws ObjectLostError');
    t.equal(e1?.code, 'ERR_OBJECT_LOST');
    t.match(e1?.message, /changed after it was sealed, through a zero-copy view from getView/, 'naming the view as the cause');
    const e2 = await caught(t, () => tsray.get(blobs.fn('checksum').remote(ref)));
    t.equal(e2?.code, 'ERR_OBJECT_LOST', 'a task given it fails with the same error instead of reading changed bytes');
    t.doesNotThrow(() => v.release(), 'release does not throw');

    const ref2 = tsray.put(data);
    const v2 = await tsray.getView(ref2);
    v2.value[7] = 0;
    v2.release();
    const e3 = await caught(t, () => tsray.getView(ref2));
    t.equal(e3?.code, 'ERR_OBJECT_LOST', 'a write through a view released since is found by the next read, getView included');

    const ref3 = tsray.put(data);
    const v3 = await tsray.getView(ref3);
    const sum = blobs.fn('checksum').remote(ref3);
    v3.value[0] = 1;
    const res = await tsray.get(sum).then((s) => ({ s }), (e) => ({ e }));
    t.ok(res.s === fnv(data) || res.e?.code === 'ERR_OBJECT_LOST', 'a task submitted while a view is live reads the original or fails, never the changed bytes');
    v3.release();
  });
});

t.test('guests get copies of their arguments: a guest writing into its list changes nothing stored', async (t) => {
  const mod = await scribbler();
  await withRuntime({ numCpus: 2, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    for (const size of [4 * MiB, 1024]) {
      const data = new Uint8Array(size).map((_, i) => i & 0xff);
      const ref = tsray.put(data);
      const ff = fnv(new Uint8Array(size).fill(0xff));
      t.equal(await tsray.get(mod.fn('scribble').remote(ref)), ff, `${size} bytes: the guest overwrote its copy`);
      t.equal(await tsray.get(mod.fn('checksum').remote(ref)), fnv(data), 'a second task reads the original');
      t.ok(sameBytes(await tsray.get(ref), data), 'and so does get');
    }
  });
});

t.test('get throws a failure at once, without waiting for pending objects; wait counts it ready', async (t) => {
  const faulty = await tsray.load(await prebuilt('faulty'));
  const slow = await tsray.load(await prebuilt('slow'));
  await withRuntime({ numCpus: 2, spillDir: spillDir() }, async () => {
    const started = performance.now();
    const nap = slow.fn('nap').remote(3000);
    const e1 = await caught(t, () => tsray.get([faulty.fn('fail').remote('intentionally failed'), nap]));
    t.ok(e1 instanceof tsray.TaskError, 'the failure is thrown');
    t.ok(performance.now() - started < 2000, `within ${Math.round(performance.now() - started)} ms, not after the 3 s nap`);
    const bad = faulty.fn('trap').remote();
    const e2 = await caught(t, () => tsray.get([nap, bad]));
    t.ok(e2 instanceof tsray.TaskError, 'also when the failed object comes after the pending one');
    t.ok(performance.now() - started < 2500, 'still without waiting for the nap');
    const [ready, notReady] = await tsray.wait([nap, bad], { numReturns: 1 });
    t.strictSame([ready, notReady], [[bad], [nap]], 'wait counts a failed object as ready (as Ray)');
    t.ok(performance.now() - started < 2800, 'at once');
    t.type(await tsray.get(nap), 'string', 'the pending one still finishes');
  });
});
