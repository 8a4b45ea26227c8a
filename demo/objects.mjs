// Object store demo: a dataset four times larger than the store flows through it.
// Blocks are made by tasks, sealed in shared memory, spilled to disk as the store
// fills, restored when read, and checked by other tasks; then `tsray memory`
// shows who holds what. Run with `npm run demo:objects`.
import * as tsray from 'tsray';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MiB = 2 ** 20;
const blocks = 32;
const blockBytes = 8 * MiB;

await tsray.init({ objectStoreMemory: 64 * MiB, recordCallSites: true, spillDir: mkdtempSync(join(tmpdir(), 'tsray-demo-spill-')) });
const blobs = await tsray.load(join(root, 'build', 'blobs.wasm'));
console.log(`store: 64 MiB of shared memory; dataset: ${blocks} blocks x 8 MiB = ${(blocks * blockBytes) / MiB} MiB\n`);

let t0 = performance.now();
const made = Array.from({ length: blocks }, (_, i) => blobs.fn('fill').remote(blockBytes, i + 1));
const checks = made.map((b) => blobs.fn('checksum').remote(b));
const sums = await tsray.get(checks);
tsray.free(checks);
console.log(`made and checksummed ${blocks} blocks with tasks in ${(performance.now() - t0).toFixed(0)} ms`);

// The driver reads every block in place (getView: a view of shared memory, no copy) and checks it against its
// task's checksum. Each view pins its block until released; the last four stay held (PINNED_IN_MEMORY below).
t0 = performance.now();
let ok = 0;
const held = [];
for (let i = blocks - 1; i >= 0; i--) {
  const view = await tsray.getView(made[i]);
  const v = view.value;
  let h = 2166136261;
  for (let k = 0; k < v.length; k++) h = Math.imul(h ^ v[k], 16777619) >>> 0;
  if (h === sums[i]) ok++;
  if (i < 4) held.push(view); else view.release();
}
console.log(`driver re-read all blocks in reverse order: ${ok}/${blocks} match (${(performance.now() - t0).toFixed(0)} ms)\n`);

// Keep a few references of each kind alive, then print the report `tsray memory` shows.
const index = tsray.put({ name: 'dataset', blocks: made.slice(0, 2) });
for (const r of made.slice(2)) r.release();
console.log(tsray.formatMemory(tsray.memory(), { units: 'MB' }));
for (const view of held) view.release();
await tsray.shutdown();
