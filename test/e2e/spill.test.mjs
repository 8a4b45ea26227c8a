// The spill-to-disk pager: real files, real workers, Ray's own check of 800 MiB through a 75 MiB store.
import t from 'tap';
import v8 from 'node:v8';
import vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync, openSync, writeSync, closeSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { withRuntime, caught, sleep } from '../helpers/runtime.mjs';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const MiB = 2 ** 20;
const newDir = () => mkdtempSync(join(tmpdir(), 'tsray-spill-test-'));
const stats = () => tsray.memory().nodes[0].store;
const spillFiles = (dir) => readdirSync(dir).filter((f) => f.startsWith('tsray-spill-')).sort((a, b) => seq(a) - seq(b));
const seq = (name) => Number(/-(\d+)\.bin$/.exec(name)[1]);

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h >>> 0;
}

function shuffled(n, seed) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

t.test('100 objects totalling over 800 MiB pass through a 75 MiB store and read back identically, by tasks and the driver', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const dir = newDir();
  await withRuntime({ numCpus: 2, objectStoreMemory: 75 * MiB, spillDir: dir }, async () => {
    const size = 8.5 * MiB;
    const refs = [];
    const sums = [];
    const source = new Uint8Array(size);
    for (let i = 0; i < 100; i++) {
      randomFillSync(source);
      sums.push(fnv(source));
      refs.push(tsray.put(source));
    }
    const total = 100 * size;
    t.ok(total > 800 * MiB, `${(total / MiB).toFixed(0)} MiB were put`);
    const afterPut = stats();
    t.ok(afterPut.spill.spilledObjects > 0, `objects were spilled (${afterPut.spill.spilledObjects})`);
    t.ok(afterPut.usedBytes <= 75 * MiB, 'the store never held more than its capacity');
    const files = spillFiles(dir);
    t.ok(files.length > 0 && files.length < afterPut.spill.spilledObjects, `spilled objects are fused into fewer files (${files.length} files for ${afterPut.spill.spilledObjects} objects)`);

    // Tasks read every object, in a shuffled order, two at a time.
    const byTasks = await tsray.get(shuffled(100, 7).map((i) => blobs.fn('checksum').remote(refs[i])));
    const order = shuffled(100, 7);
    let taskMismatches = 0;
    order.forEach((i, k) => { if (byTasks[k] !== sums[i]) taskMismatches++; });
    t.equal(taskMismatches, 0, 'every object read by a task is byte-identical');

    // The driver reads every object, in another order.
    let driverMismatches = 0;
    for (const i of shuffled(100, 99)) {
      const v = await tsray.get(refs[i]);
      if (v.length !== size || fnv(v) !== sums[i]) driverMismatches++;
    }
    t.equal(driverMismatches, 0, 'every object read by the driver is byte-identical');

    const s = stats().spill;
    const consumed = 2 * total;
    t.ok(s.restoredBytes > 0, `bytes were restored (${(s.restoredBytes / MiB).toFixed(0)} MiB)`);
    t.ok(s.restoredBytes <= consumed, `no thrashing: restored ${(s.restoredBytes / MiB).toFixed(0)} MiB <= consumed ${(consumed / MiB).toFixed(0)} MiB`);

    for (const r of refs) r.release();
    // The tasks' result refs were dropped unreleased: they go when they are collected.
    for (let i = 0; i < 100 && stats().objects > 0; i++) { gc(); await sleep(5); }
    t.equal(stats().objects, 0, 'every object is freed');
    t.equal(stats().spill.bytesOnDisk, 0, 'freed objects leave no spilled bytes behind');
    t.strictSame(spillFiles(dir), [], 'and their spill files are deleted');
  });
});

t.test('spilling under concurrent tasks: results sealed while other tasks read spilled arguments', async (t) => {
  const blobs = await tsray.load(await prebuilt('blobs'));
  const dir = newDir();
  await withRuntime({ numCpus: 2, objectStoreMemory: 40 * MiB, spillDir: dir, minSpillingSize: 8 * MiB }, async () => {
    const made = Array.from({ length: 30 }, (_, i) => blobs.fn('fill').remote(4 * MiB, i + 1));
    // Each checksum starts as soon as its input is sealed, while later fills are still producing.
    const sums = made.map((r) => blobs.fn('checksum').remote(r));
    const sizes = made.map((r) => blobs.fn('size').remote(r));
    const [a, b] = await Promise.all([tsray.get(sums), tsray.get(sizes)]);
    t.strictSame(b, Array(30).fill(4 * MiB), 'every task saw its whole argument');
    let mismatches = 0;
    for (let i = 0; i < 30; i++) if (fnv(await tsray.get(made[i])) !== a[i]) mismatches++;
    t.equal(mismatches, 0, 'the driver reads what the tasks read');
    t.ok(stats().spill.spilledObjects > 0, 'results were spilled along the way');
  });
});

t.test('a missing or corrupt spill file loses only the objects in it (ObjectLostError)', async (t) => {
  const dir = newDir();
  await withRuntime({ numCpus: 1, objectStoreMemory: 20 * MiB, spillDir: dir, minSpillingSize: 1 }, async () => {
    const sums = [];
    const refs = [];
    for (let i = 0; i < 8; i++) {
      const v = new Uint8Array(4 * MiB);
      randomFillSync(v);
      sums.push(fnv(v));
      refs.push(tsray.put(v));
    }
    await sleep(50); // background spilling settles
    const files = spillFiles(dir);
    t.ok(files.length >= 2, `several spill files (${files.length})`);
    // One object per file here (minSpillingSize 1), oldest first: file 0 holds object 0, file 1 object 1.
    unlinkSync(join(dir, files[0]));
    const fd = openSync(join(dir, files[1]), 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xee), 0, 4096, 1 * MiB);
    closeSync(fd);

    const e0 = await caught(t, () => tsray.get(refs[0]));
    t.ok(e0 instanceof tsray.ObjectLostError, `a missing file: ObjectLostError (got ${e0?.constructor?.name})`);
    t.equal(e0?.code, 'ERR_OBJECT_LOST');
    t.match(e0?.message, /cannot be opened/);
    const e1 = await caught(t, () => tsray.get(refs[1]));
    t.ok(e1 instanceof tsray.ObjectLostError, 'a corrupt file: ObjectLostError');
    t.match(e1?.message, /corrupt/);
    const again = await caught(t, () => tsray.get(refs[1]));
    t.ok(again instanceof tsray.ObjectLostError, 'it stays lost');
    let fine = 0;
    for (let i = 2; i < 8; i++) if (fnv(await tsray.get(refs[i])) === sums[i]) fine++;
    t.equal(fine, 6, 'every other object reads back intact');
  });
});

t.test('a put that cannot fit fails with ObjectStoreFullError and loses nothing', async (t) => {
  const dir = newDir();
  await withRuntime({ numCpus: 1, objectStoreMemory: 32 * MiB, spillDir: dir }, async () => {
    const a = tsray.put(new Uint8Array(20 * MiB).fill(1));
    const view = await tsray.getView(a); // a live view pins it: it cannot be spilled
    const e = await caught(t, () => tsray.put(new Uint8Array(20 * MiB)));
    t.ok(e instanceof tsray.ObjectStoreFullError, `ObjectStoreFullError (got ${e?.constructor?.name})`);
    t.equal(e?.code, 'ERR_OBJECT_STORE_FULL');
    t.match(e?.message, /capacity 32\.0 MiB/, 'it names the capacity');
    t.match(e?.message, new RegExp(a.id), 'and the largest holder');
    t.match(e?.message, /pinned=1/, 'and why it is held');
    t.equal(view.value[12345], 1, 'the pinned object is intact');
    view.release();
    const tooBig = await caught(t, () => tsray.put(new Uint8Array(40 * MiB)));
    t.ok(tooBig instanceof tsray.ObjectStoreFullError, 'an object larger than the store is refused too');
    t.match(tooBig?.message, /raise objectStoreMemory/);
    t.equal(stats().objects, 1, 'no half-made object is left behind');
  });
});

t.test('spilling to a full disk fails with OutOfDiskError and loses nothing', async (t) => {
  const dir = newDir();
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: dir, localFsCapacityThreshold: 0 }, async () => {
    const a = tsray.put(new Uint8Array(10 * MiB).fill(3));
    const e = await caught(t, () => tsray.put(new Uint8Array(10 * MiB)));
    t.ok(e instanceof tsray.OutOfDiskError, `OutOfDiskError (got ${e?.constructor?.name})`);
    t.equal(e?.code, 'ERR_OUT_OF_DISK');
    t.match(e?.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'it names the spill directory');
    t.equal((await tsray.get(a))[999], 3, 'the object already stored is intact');
    t.strictSame(spillFiles(dir), [], 'no partial spill file is left');
  });
});

t.test('stale spill files of dead processes are removed at start; a node removes its own at shutdown', async (t) => {
  const dir = newDir();
  const dead = spawnSync(process.execPath, ['-e', 'process.pid']).pid;
  const stale = join(dir, `tsray-spill-${dead}-0123456789abcdef-1.bin`);
  writeFileSync(stale, Buffer.alloc(1024));
  const mine = join(dir, `tsray-spill-${process.pid}-0123456789abcdef-1.bin`);
  writeFileSync(mine, Buffer.alloc(1024));
  const other = join(dir, 'notes.txt');
  writeFileSync(other, 'keep');
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir: dir, minSpillingSize: 1 }, async () => {
    t.notOk(existsSync(stale), "a dead process's spill file is gone");
    t.ok(existsSync(mine), "a live process's file is kept");
    t.ok(existsSync(other), 'other files are left alone');
    const refs = [1, 2, 3].map((i) => tsray.put(new Uint8Array(6 * MiB).fill(i)));
    await sleep(50);
    t.ok(spillFiles(dir).length > 1, 'this node spilled');
    t.ok(statSync(join(dir, spillFiles(dir).at(-1))).size > 0);
    void refs;
  });
  t.strictSame(spillFiles(dir), [`tsray-spill-${process.pid}-0123456789abcdef-1.bin`], "shutdown removed this node's files only");
});

t.test("a freed object's spilled bytes leave the disk, even in the middle of a fused file, once half the file is freed", async (t) => {
  const dir = newDir();
  await withRuntime({ numCpus: 1, objectStoreMemory: 24 * MiB, spillDir: dir }, async () => {
    const refs = [1, 2, 3, 4].map((i) => tsray.put(new Uint8Array(5 * MiB).fill(i)));
    await sleep(50); // past the threshold: the background spill fuses what it can into one file
    const files = spillFiles(dir);
    t.equal(files.length, 1, 'one fused file');
    const onDisk = () => spillFiles(dir).reduce((sum, f) => sum + statSync(join(dir, f)).blocks * 512, 0);
    const before = onDisk();
    t.ok(before >= 20 * MiB, `it holds all four objects (${(before / MiB).toFixed(1)} MiB allocated)`);
    refs[1].release();
    refs[2].release();
    const after = onDisk();
    t.ok(before - after >= 10 * MiB, `freeing the two middle objects returned their blocks (${((before - after) / MiB).toFixed(1)} MiB)`);
    t.notOk(spillFiles(dir).includes(files[0]), 'the half-dead file was compacted into a new one');
    const s = stats().spill;
    t.ok(s.compactedBytes > 0 && s.compactedBytes <= 10 * MiB + 2 * 4096, `compaction copied no more than was freed (${(s.compactedBytes / MiB).toFixed(1)} MiB)`);
    t.equal((await tsray.get(refs[3]))[77], 4, 'the objects around them still read back');
    t.equal((await tsray.get(refs[0]))[77], 1);
  });
});
