// A full spill disk keeps every spilled object readable, by the driver and by tasks.
// The disk is a real 26 MiB tmpfs (the tests run as root), filled by spilling until ENOSPC.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';
import { caught, withRuntime } from '../helpers/runtime.mjs';

const MiB = 2 ** 20;

function fnv(bytes) {
  let h = 2166136261;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 16777619) >>> 0;
  return h >>> 0;
}

/** A fresh tmpfs of `size` mounted for this test, or undefined where mounting is not allowed. */
function smallDisk(t, size) {
  const at = mkdtempSync(join(tmpdir(), 'tsray-full-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=700`, 'tmpfs', at], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  t.teardown(() => { spawnSync('umount', [at]); rmdirSync(at); });
  return at;
}

t.test('while the spill disk stays full, every spilled object still reads back intact', async (t) => {
  const disk = smallDisk(t, '26m');
  if (!disk) { t.skip('mount -t tmpfs is not allowed here (needs root)'); return; }
  const blobs = await tsray.load(await prebuilt('blobs'));
  const spillDir = join(disk, 'spill');
  // localFsCapacityThreshold 1: no early refusal, the disk really runs out (ENOSPC).
  await withRuntime({ numCpus: 1, objectStoreMemory: 16 * MiB, spillDir, minSpillingSize: 1, localFsCapacityThreshold: 1 }, async () => {
    const refs = [];
    const sums = [];
    let full;
    for (let i = 0; i < 40 && !full; i++) {
      const v = new Uint8Array(2 * MiB);
      randomFillSync(v);
      try {
        refs.push(tsray.put(v));
        sums.push(fnv(v));
      } catch (e) {
        full = e;
      }
    }
    t.ok(full instanceof tsray.OutOfDiskError, `puts end with OutOfDiskError once the disk is full (got ${full?.constructor?.name}: ${full?.message})`);
    const store = () => tsray.memory().nodes[0].store;
    const spilled = store().objectsSpilled;
    t.ok(spilled >= 10, `${spilled} of ${refs.length} objects are only on disk`);

    let driverBad = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < refs.length; i++) {
        try {
          if (fnv(await tsray.get(refs[i])) !== sums[i]) driverBad++;
        } catch (e) {
          driverBad++;
          t.comment(`object ${i}: ${e.constructor.name}: ${e.message}`);
        }
      }
    }
    t.equal(driverBad, 0, 'the driver read every object back, twice, byte-identical');
    const byTasks = await tsray.get(refs.map((r) => blobs.fn('checksum').remote(r)));
    t.strictSame(byTasks, sums, 'tasks read every object back byte-identical');

    const again = await caught(t, () => tsray.put(new Uint8Array(8 * MiB)));
    t.ok(again instanceof tsray.OutOfDiskError, 'the disk is still full: a new put that needs spilling still fails');
    t.ok(readdirSync(spillDir).length > 0, 'the spilled objects stayed on disk');

    // Freeing on the full disk (spill files shrink, or are compacted where there is room) keeps the rest readable.
    for (let i = 0; i < refs.length; i += 2) tsray.free(refs[i]);
    let rest = 0;
    for (let i = 1; i < refs.length; i += 2) if (fnv(await tsray.get(refs[i])) === sums[i]) rest++;
    t.equal(rest, Math.floor(refs.length / 2), 'after freeing every other object, the others read back intact');
  });
});
