// Freeing spilled objects is bounded work: no process per free, compaction copies no more than was freed.
import t from 'tap';
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { withRuntime } from '../helpers/runtime.mjs';

// Every way of starting a process counts (ESM imports of node:child_process see the wrappers too).
let started = 0;
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  const real = childProcess[name];
  childProcess[name] = (...args) => { started++; return real(...args); };
}
syncBuiltinESMExports();

const KiB = 2 ** 10;
const MiB = 2 ** 20;

t.test('2,000 put/free cycles of spilled objects start no processes and take bounded time and disk', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-spill-free-'));
  const onDisk = () => readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).blocks * 512, 0);
  await withRuntime({ numCpus: 1, objectStoreMemory: 4 * MiB, spillDir: dir }, async () => {
    const size = 128 * KiB;
    const window = 48; // 6 MiB live: more than the store holds, so the oldest live objects are on disk
    const live = [];
    const before = started;
    const t0 = performance.now();
    let peakDisk = 0;
    for (let i = 0; i < 2000; i++) {
      live.push(tsray.put(new Uint8Array(size).fill(i & 255)));
      if (live.length > window) tsray.free(live.shift());
      if (i % 100 === 99) peakDisk = Math.max(peakDisk, onDisk());
    }
    const ms = performance.now() - t0;
    const s = tsray.memory().nodes[0].store.spill;
    t.ok(s.spilledObjects >= 1000, `objects were spilled (${s.spilledObjects})`);
    t.ok(started - before <= 2, `processes started: ${started - before}`);
    t.ok(ms < 20000, `2,000 cycles took ${(ms / 1000).toFixed(1)} s`);
    const freedFromDisk = s.spilledBytes - s.bytesOnDisk;
    t.ok(s.compactedBytes <= freedFromDisk, `compaction copied ${(s.compactedBytes / MiB).toFixed(1)} MiB for ${(freedFromDisk / MiB).toFixed(1)} MiB freed from disk`);
    t.ok(peakDisk <= 2 * window * (size + 4 * KiB) + 4 * MiB, `spill files never held much more than twice the live objects (peak ${(peakDisk / MiB).toFixed(1)} MiB)`);
    t.equal((await tsray.get(live[0]))[5], (2000 - window) & 255, 'the oldest live object still reads back');
    tsray.free(live.splice(0));
    t.equal(tsray.memory().nodes[0].store.spill.bytesOnDisk, 0, 'nothing live is left on disk');
    t.equal(onDisk(), 0, 'and every spill file is gone');
  });
});
