// The object store: shared arenas, zero-copy reads, the five reference kinds, explicit release.
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { Allocator } from '../../dist/store/allocator.js';
import { prebuilt } from '../helpers/components.mjs';
import { withRuntime, caught, sleep } from '../helpers/runtime.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const MiB = 2 ** 20;
const spillDir = () => mkdtempSync(join(tmpdir(), 'tsray-store-'));
const node = () => tsray.memory().nodes[0];
const rowsOf = (ref) => node().references.filter((r) => r.objectRef === ref.id);
const kindsOf = (ref) => rowsOf(ref).map((r) => r.referenceType).sort();
const known = (id) => node().references.some((r) => r.objectRef === id);

/** Collects garbage until `done()` holds (finalizers run after a GC, on a later turn). */
async function collectUntil(done) {
  for (let i = 0; i < 100; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
    if (done()) return true;
    await sleep(5);
  }
  return false;
}

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h >>> 0;
}

t.test('the allocator survives 10,000 random alloc/free cycles of 1 KiB..64 MiB without fragmenting', async (t) => {
  const cap = 1024 * MiB;
  const a = new Allocator(cap);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const live = [];
  let liveBytes = 0;
  let failures = 0;
  for (let i = 0; i < 10000; i++) {
    if (live.length > 0 && (rand() < 0.45 || liveBytes > cap * 0.6)) {
      const [b] = live.splice(Math.floor(rand() * live.length), 1);
      a.release(b.off, b.size);
      liveBytes -= Math.ceil(b.size / 4096) * 4096;
    } else {
      const size = Math.round(1024 * Math.pow(65536, rand()));
      const off = a.alloc(size);
      if (off < 0) { failures++; continue; }
      live.push({ off, size });
      liveBytes += Math.ceil(size / 4096) * 4096;
    }
    if (i % 1000 === 0) t.equal(a.used, liveBytes, `cycle ${i}: used bytes add up`);
  }
  t.equal(failures, 0, 'no allocation failed while the arena was at most 60% full');
  const sorted = [...live].sort((x, y) => x.off - y.off);
  let overlaps = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1].off + sorted[i - 1].size > sorted[i].off) overlaps++;
  t.equal(overlaps, 0, `no two of the ${live.length} live blocks overlap`);
  for (const b of live) a.release(b.off, b.size);
  t.equal(a.used, 0, 'everything released');
  t.equal(a.holes, 1, 'free space coalesced into one block');
  t.equal(a.largestFree, cap, 'the whole arena is one free block again');
  t.ok(a.alloc(cap / 2) >= 0, 'a block of half the capacity fits');
  t.throws(() => a.release(0, 64 * 2 ** 20 * 16), /overlaps free space/, 'a double free is caught');
});

t.test('store: 1,000 random put/release cycles, then a put of half the capacity fits without spilling', async (t) => {
  const cap = 256 * MiB;
  await withRuntime({ numCpus: 1, objectStoreMemory: cap, spillDir: spillDir() }, async () => {
    const source = new Uint8Array(64 * MiB);
    let seed = 99;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const live = [];
    let liveBytes = 0;
    for (let i = 0; i < 1000; i++) {
      if (live.length > 0 && (rand() < 0.45 || liveBytes > cap * 0.5)) {
        const [x] = live.splice(Math.floor(rand() * live.length), 1);
        liveBytes -= x.size;
        x.ref.release();
      } else {
        const size = Math.round(1024 * Math.pow(65536, rand()));
        live.push({ ref: tsray.put(source.subarray(0, size)), size });
        liveBytes += size;
      }
    }
    for (const x of live) x.ref.release();
    const st = node().store;
    t.equal(st.usedBytes, 0, 'all bytes returned');
    t.equal(st.largestFreeBlock, cap, 'the arena is one free block again');
    const big = tsray.put(new Uint8Array(cap / 2));
    t.equal(node().store.spill.spilledObjects, 0, 'nothing had to be spilled');
    t.equal((await tsray.get(big)).length, cap / 2, 'the half-capacity object reads back');
  });
});

t.test('large objects live in shared memory: getView reads them in place, get copies them, tasks read them in place', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 2, objectStoreMemory: 128 * MiB, spillDir: spillDir() }, async () => {
    const data = new Uint8Array(4 * MiB);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const ref = tsray.put(data);
    data[0] ^= 0xff;
    const h1 = await tsray.getView(ref);
    const h2 = await tsray.getView(ref);
    const v1 = h1.value;
    t.ok(v1 instanceof Uint8Array, 'a Uint8Array comes back as one');
    t.ok(v1.buffer instanceof SharedArrayBuffer, 'it is a view of the shared store memory (no copy)');
    t.equal(v1.buffer.byteLength >= 4 * MiB, true);
    t.equal(v1.byteOffset, h2.value.byteOffset, 'both views see the same bytes');
    const c = await tsray.get(ref);
    t.ok(c instanceof Uint8Array && !(c.buffer instanceof SharedArrayBuffer), 'get gives a private copy');
    t.equal(fnv(c), fnv(v1), 'of the same bytes');
    t.equal(v1[0], 7, 'later changes to the source did not reach the stored object');
    t.equal(fnv(v1), fnv(Uint8Array.from(data, (x, i) => (i === 0 ? x ^ 0xff : x))), 'bytes are the ones put');
    t.equal(await tsray.get(blobs.fn('checksum').remote(ref)), fnv(v1), 'a task reads the same bytes');
    h1.release();
    h2.release();
    const mixed = tsray.put({ name: 'm', rows: [new Float64Array(20000).fill(1.5), new Int32Array(40000).fill(-3)], tags: new Set(['a']) });
    const mh = await tsray.getView(mixed);
    const m = mh.value;
    t.equal(m.name, 'm');
    t.ok(m.rows[0] instanceof Float64Array && m.rows[0].buffer instanceof SharedArrayBuffer, 'nested typed arrays are views too');
    t.equal(m.rows[0][19999], 1.5);
    t.equal(m.rows[1][39999], -3);
    t.ok(m.tags instanceof Set && m.tags.has('a'), 'other values keep their types');
    mh.release();
    const small = tsray.put(new Float64Array(8).fill(2));
    const s = await tsray.get(small);
    t.notOk(s.buffer instanceof SharedArrayBuffer, 'small values live inline (a private copy)');
    const made = blobs.fn('fill').remote(2 * MiB, 42);
    const mh2 = await tsray.getView(made);
    const mv = mh2.value;
    t.ok(mv.buffer instanceof SharedArrayBuffer, "a task's large result is sealed in the store and read in place");
    t.equal(await tsray.get(blobs.fn('checksum').remote(made)), fnv(mv), 'and a task reads it back identically');
    mh2.release();
  });
});

t.test('LOCAL_REFERENCE: a ref keeps its object; release, free and Symbol.dispose drop it', async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const a = tsray.put(new Uint8Array(MiB));
    t.strictSame(kindsOf(a), ['LOCAL_REFERENCE'], 'one local reference');
    const row = rowsOf(a)[0];
    t.equal(row.type, 'Driver');
    t.equal(row.pid, process.pid);
    t.ok(row.size >= MiB, 'the row shows the size');
    t.match(row.callSite, /\(put object\) \| .*store\.test\.mjs:\d+/, 'the call site is the line that put it');
    t.ok(node().store.usedBytes >= MiB, 'its bytes are in use');
    a.release();
    t.notOk(known(a.id), 'released: the object is gone');
    t.equal(node().store.usedBytes, 0, 'and its bytes are free');
    t.ok(a.released);
    const e = await caught(t, () => tsray.get(a));
    t.equal(e?.code, 'ERR_INVALID_ARGUMENT', 'get of a released ref is refused');
    t.match(e?.message, /released/);
    await t.rejects(tsray.wait([a]), { code: 'ERR_INVALID_ARGUMENT', message: /released/ }, 'so is a wait on it (which could never end)');

    const b = tsray.put(new Uint8Array(MiB));
    const c = tsray.put(new Uint8Array(MiB));
    tsray.free([b, c]);
    t.ok(!known(b.id) && !known(c.id), 'free() releases a list of refs');
    const d = tsray.put(new Uint8Array(MiB));
    d[Symbol.dispose]();
    t.notOk(known(d.id), 'Symbol.dispose releases (what `using` calls)');
    t.equal(node().store.usedBytes, 0);

    let id;
    (() => { id = tsray.put(new Uint8Array(MiB)).id; })();
    t.ok(known(id), 'an unreleased ref holds its object');
    t.ok(await collectUntil(() => !known(id)), 'once the ref is garbage-collected, the object is freed (backstop)');
  });
});

t.test('PINNED_IN_MEMORY: a view from getView keeps the object after its ref is released', async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const a = tsray.put(new Float64Array(MiB / 8).fill(3));
    let view = (await tsray.getView(a)).value;
    const id = a.id;
    a.release();
    t.strictSame(node().references.filter((r) => r.objectRef === id).map((r) => r.referenceType), ['PINNED_IN_MEMORY'], 'only the pin remains');
    t.equal(node().summary.pinnedCount, 1, 'the summary counts it');
    t.ok(node().store.usedBytes > 0, 'the bytes stay while the view lives');
    t.equal(view[100], 3, 'and the view still reads them');
    view = undefined;
    t.ok(await collectUntil(() => !known(id)), 'never released: once the view is garbage-collected, the object is freed (backstop)');
    t.equal(node().store.usedBytes, 0);
  });
});

t.test('USED_BY_PENDING_TASK and a worker pin keep an argument until its task finishes', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const data = new Uint8Array(2 * MiB).fill(9);
    const arg = tsray.put(data);
    const id = arg.id;
    const out = blobs.fn('hold').remote(arg, 400);
    arg.release();
    await sleep(150);
    const kinds = node().references.filter((r) => r.objectRef === id);
    t.ok(kinds.some((r) => r.referenceType === 'USED_BY_PENDING_TASK' && r.type === 'Driver'), 'the driver counts the pending task');
    const pin = kinds.find((r) => r.referenceType === 'PINNED_IN_MEMORY');
    t.equal(pin?.type, 'Worker', 'the worker reading it pins it');
    t.ok(pin?.threadId > 0, 'the pin names the worker thread');
    t.match(pin?.callSite, /deserialize task arg/);
    t.equal(node().summary.pendingTasks, 1);
    t.equal(await tsray.get(out), fnv(data), 'the task read the released argument');
    t.notOk(known(id), 'after the task, nothing holds it: freed');
    t.equal(node().store.usedBytes, 0);
  });
});

t.test('CAPTURED_IN_OBJECT: a ref inside a put value keeps its object while the outer one lives', async (t) => {
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const inner = tsray.put(new Uint8Array(MiB).fill(5));
    const outer = tsray.put({ parts: [inner], note: 'x' });
    const id = inner.id;
    inner.release();
    t.strictSame(node().references.filter((r) => r.objectRef === id).map((r) => r.referenceType), ['CAPTURED_IN_OBJECT']);
    t.equal(node().summary.capturedInObjects, 1);
    const got = await tsray.get(outer);
    const again = got.parts[0];
    t.ok(again instanceof tsray.ObjectRef && again.id === id, 'get gives the captured ref back');
    t.equal((await tsray.get(again))[7], 5, 'and it reads the inner object');
    again.release();
    outer.release();
    t.notOk(known(id), 'freeing the outer object frees what it captured');
    t.equal(node().store.usedBytes, 0);
    t.equal(node().references.length, 0, 'no references remain');
  });
});

t.test('ACTOR_HANDLE: an actor holds its constructor arguments for its life', async (t) => {
  const counter = await tsray.load(await prebuilt('counter'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const start = tsray.put(41n);
    const id = start.id;
    const c = counter.actor('counter').remote(start);
    t.equal(await tsray.get(c.incr.remote(1n)), 42n, 'the actor read its argument');
    start.release();
    t.strictSame(node().references.filter((r) => r.objectRef === id).map((r) => r.referenceType), ['ACTOR_HANDLE'], 'the actor keeps it (a restart needs it)');
    t.equal(node().summary.actorHandles, 1);
    tsray.kill(c);
    await sleep(20);
    t.notOk(known(id), 'killed: the argument is freed');
  });
});

t.test('bad refs and values are refused with typed errors', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  await withRuntime({ numCpus: 1, objectStoreMemory: 64 * MiB, spillDir: spillDir() }, async () => {
    const r = tsray.put(new Uint8Array(10));
    r.release();
    const e1 = await caught(t, () => tsray.get(blobs.fn('size').remote(r)));
    t.equal(e1?.code, 'ERR_INVALID_ARGUMENT', 'a task given a released ref fails');
    t.match(e1?.message, /released/);
    t.throws(() => tsray.put({ f: () => 1 }), { code: 'ERR_INVALID_ARGUMENT' }, 'functions cannot be stored');
    t.throws(() => tsray.put({ inner: r }), { code: 'ERR_INVALID_ARGUMENT' }, 'a value holding a released ref is refused');
    t.throws(() => tsray.free([1]), { code: 'ERR_INVALID_ARGUMENT' });
    await t.rejects(tsray.init({ objectSpillingThreshold: 2 }), { code: 'ERR_RUNTIME_STATE' }, 'init twice is still refused first');
  });
  await t.rejects(tsray.init({ objectSpillingThreshold: 2 }), { code: 'ERR_INVALID_ARGUMENT' }, 'a threshold above 1 is refused');
  t.notOk(tsray.isInitialized());
});

t.test('a store larger than one arena spreads objects over several', async (t) => {
  const { ObjectStore } = await import('../../dist/store/object-store.js');
  const store = new ObjectStore({
    nodeId: 'abcdef0123456789', capacity: 40 * MiB, maxArenaBytes: 16 * MiB, spillDir: spillDir(),
    spillThreshold: 1, minSpillBytes: 1, localFsCapacityThreshold: 1, recordTaskCallSites: false,
  });
  t.teardown(() => store.close());
  t.equal(store.arenas.length, 3, '40 MiB in arenas of at most 16 MiB: three arenas');
  t.strictSame(store.arenas.map((a) => a.capacity), [16 * MiB, 16 * MiB, 8 * MiB]);
  const refs = [1, 2, 3, 4, 5].map((i) => store.put(new Uint8Array(7 * MiB).fill(i)));
  t.strictSame(store.arenas.map((a) => Math.round(a.allocator.used / MiB)), [14, 14, 7], 'objects that do not fit one arena go to the next');
  t.equal(store.stats().spill.spilledObjects, 0, 'nothing spilled while any arena had room');
  const sixth = store.put(new Uint8Array(7 * MiB).fill(6));
  t.ok(store.stats().spill.spilledObjects > 0, 'once no arena has room, older objects are spilled');
  [...refs, sixth].forEach((r, i) => t.equal(store.value(r)[MiB], i + 1, `object ${i + 1} reads back (restored if it was spilled)`));
  for (const r of [...refs, sixth]) r.release();
});

t.test('an object freed by a waiter of its own settle is freed once: store figures stay true and later objects stay intact', async (t) => {
  // A guest's actor call whose 1.6 MB result is read and released as it settles (the node's own waiter).
  await withRuntime({ numCpus: 2 }, async () => {
    const nested = await tsray.load(await prebuilt('nested'));
    const server = nested.actor('param-server').remote(200_000);
    t.equal(await tsray.get(nested.fn('train').remote(server, 2, 1)), 12, 'the guest read the 1.6 MB weights (4 of them updated by 1 and 2)');
    await sleep(50);
    const st = node().store;
    t.ok(st.usedBytes >= 0 && st.inlineBytes >= 0, `no negative store figures (used ${st.usedBytes}, inline ${st.inlineBytes})`);
    const a = tsray.put(new Float64Array(200_000).fill(1));
    const b = tsray.put(new Float64Array(200_000).fill(2));
    const [va, vb] = [await tsray.get(a), await tsray.get(b)];
    t.ok(va.every((x) => x === 1) && vb.every((x) => x === 2), 'two new objects do not share the freed block');
    t.equal(node().store.usedBytes >= 2 * 1_600_000, true, 'and both are counted');
  });
});
