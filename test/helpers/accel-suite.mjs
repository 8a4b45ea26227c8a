// The tsray:accel behaviour every backend must show, run through the public
// API against real worker threads and the node's device thread: tensor results
// against a JavaScript reference, scoping to the granted devices, budgets, and
// cleanup whatever way a task ends.
import * as tsray from 'tsray';
import { prebuilt } from './components.mjs';

/** Seeded values in [-1, 1), so failures reproduce. */
export function random(n, seed) {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export function matmulRef(a, b, m, k, n) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + p] * b[p * n + j];
  return out;
}

/** The concatenation `tensor-ops` returns (see wit/examples.wit), computed in f64. */
export function tensorOpsRef(a, b, m, n) {
  const out = [];
  for (let i = 0; i < m * n; i++) out.push(a[i] + b[i]);
  for (let i = 0; i < m * n; i++) out.push(a[i] * b[i]);
  for (let i = 0; i < m * n; i++) out.push(a[i] * 2.5);
  for (let c = 0; c < n; c++) for (let r = 0; r < m; r++) out.push(a[r * n + c]);
  const all = [...a];
  out.push(all.reduce((x, y) => x + y, 0), all.reduce((x, y) => x + y, 0) / all.length, Math.max(...all), Math.min(...all));
  const col = (c) => Array.from({ length: m }, (_, r) => a[r * n + c]);
  const row = (r) => Array.from(a.subarray(r * n, r * n + n));
  for (let c = 0; c < n; c++) out.push(col(c).reduce((x, y) => x + y, 0));
  for (let r = 0; r < m; r++) out.push(row(r).reduce((x, y) => x + y, 0) / n);
  for (let c = 0; c < n; c++) out.push(Math.max(...col(c)));
  for (let r = 0; r < m; r++) out.push(Math.min(...row(r)));
  return out;
}

/** Largest |got - want| relative to `scale`. */
export function maxError(got, want, scale = 1) {
  let e = 0;
  for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]) / scale);
  return e;
}

/** Waits until `cond()` holds (polling), or fails after `ms`. */
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const used = async () => (await tsray.acceleratorDevices()).reduce((s, d) => s + d.usedBytes, 0);

/**
 * Runs the suite on a node started with `accelBackend: backend`, two GPUs and
 * 4 MiB of device memory each (so budgets are small and exact).
 */
export function accelSuite(t, backend) {
  const MiB = 2 ** 20;
  let c;
  t.before(async () => {
    await tsray.init({ numCpus: 2, numGpus: 2, accelBackend: backend, acceleratorMemory: 4 * MiB, logLevel: 'fatal' });
    c = await tsray.load(await prebuilt('accel'));
  });
  t.teardown(() => tsray.shutdown());
  const half = { numGpus: 0.5 };

  t.test('the node reports each GPU with its backend', async (t) => {
    const devices = await tsray.acceleratorDevices();
    t.strictSame(devices.map((d) => [d.id, d.backend, d.memoryBytes, d.usedBytes]), [[0, backend, 4 * MiB, 0], [1, backend, 4 * MiB, 0]]);
    t.equal(await tsray.get(c.fn('device-backend').options(half).remote(0)), backend, 'the guest sees the same backend');
  });

  t.test('matmul matches the reference in float32 and float16, and the plain guest', async (t) => {
    const [m, k, n] = [17, 33, 9];
    const a = random(m * k, 1), b = random(k * n, 2);
    const want = matmulRef(a, b, m, k, n);
    const f32 = await tsray.get(c.fn('tensor-matmul').options(half).remote(0, m, k, n, a, b, 0));
    t.ok(maxError(f32, want) < 1e-5 * k, `float32 within ${1e-5 * k} (max error ${maxError(f32, want)})`);
    const f16 = await tsray.get(c.fn('tensor-matmul').options(half).remote(0, m, k, n, a, b, 1));
    // halves keep 11 bits: inputs, products summed in f32, and the result are each rounded
    t.ok(maxError(f16, want) < 2e-3 * k, `float16 within ${2e-3 * k} (max error ${maxError(f16, want)})`);
    t.ok(maxError(f16, want) > 0, 'float16 is really rounded');
    const plain = await tsray.get(c.fn('matmul-plain').remote(m, k, n, a, b));
    t.ok(maxError(plain, want) < 1e-5 * k, 'the plain AssemblyScript product agrees');
  });

  t.test('elementwise ops, scale, reductions and transpose match the reference', async (t) => {
    const [m, n] = [5, 7];
    const a = random(m * n, 3), b = random(m * n, 4);
    const got = await tsray.get(c.fn('tensor-ops').options(half).remote(0, m, n, a, b));
    const want = tensorOpsRef(a, b, m, n);
    t.equal(got.length, want.length);
    t.ok(maxError(got, want) < 1e-5, `max error ${maxError(got, want)}`);
  });

  t.test('a task sees only the devices it was given', async (t) => {
    const both = await tsray.get(c.fn('gpu-devices').options({ numGpus: 2 }).remote());
    t.strictSame([...both], [0, 1]);
    const one = await tsray.get(c.fn('gpu-devices').options(half).remote());
    const ids = await tsray.get(c.fn('task-accelerator-ids').options(half).remote());
    t.equal(one.length, 1);
    t.strictSame([...one], [...ids], 'its devices are its task-context ids');
    const other = one[0] === 0 ? 1 : 0;
    // fractions pack the first device, so a half-GPU task holds device 0
    await t.rejects(tsray.get(c.fn('tensor-matmul').options(half).remote(1, 1, 1, 1, [1], [1], 0)), { name: 'TaskError', message: new RegExp(`not-granted: device ${other} is not one of this task's devices`) });
    t.strictSame([...await tsray.get(c.fn('gpu-devices').remote())], [], 'a task with no GPU sees none');
    await t.rejects(tsray.get(c.fn('tensor-matmul').remote(0, 1, 1, 1, [1], [1], 0)), { name: 'TaskError', message: /not-granted: this task holds no accelerator/ });
  });

  t.test('budgets: a share of the device, or acceleratorMemory; a refusal the guest does not handle is an OutOfMemoryError', async (t) => {
    // 0.25 of 4 MiB = 1 MiB = four 256 KiB tensors
    t.equal(await tsray.get(c.fn('alloc-tensors').options({ numGpus: 0.25 }).remote(0, 65536, 10, true)), 4n * 262144n);
    t.equal(await tsray.get(c.fn('alloc-tensors').options({ numGpus: 0.25, acceleratorMemory: 3 * 262144 }).remote(0, 65536, 10, true)), 3n * 262144n);
    await t.rejects(tsray.get(c.fn('alloc-tensors').options({ numGpus: 0.25 }).remote(0, 65536, 10, false)), {
      name: 'OutOfMemoryError', message: /device 0 \(\w+\): this task's budget is 1\.0 MiB \(0\.25 of the device's 4\.0 MiB\); it holds 1\.0 MiB and asked for 256\.0 KiB more/,
    });
    t.equal(await used(), 0, 'every tensor was freed when the tasks ended');
  });

  t.test('an actor keeps device state between calls; a restart starts fresh; a kill frees it', async (t) => {
    const acc = c.actor('accumulator').options({ numGpus: 0.5, maxRestarts: 1 }).remote(0, 4);
    t.strictSame([...await tsray.get(acc.add.remote([1, 2, 3, 4]))], [1, 2, 3, 4]);
    t.strictSame([...await tsray.get(acc.add.remote([1, 1, 1, 1]))], [2, 3, 4, 5], 'the total stayed on the device');
    t.equal(await used(), 16, 'it holds one 4-element tensor');
    await t.rejects(tsray.get(acc.crash.remote()), { name: 'TaskError' });
    t.strictSame([...await tsray.get(acc.add.remote([1, 1, 1, 1]))], [1, 1, 1, 1], 'restarted with a fresh vector');
    t.equal(await used(), 16, 'the crashed instance\'s tensor was freed');
    tsray.kill(acc);
    await until(async () => (await used()) === 0, 5000, 'the killed actor\'s tensor to be freed');
    t.pass('killing it freed its device memory');
  });

  t.test('device memory returns after a trap, a timeout and a forced cancel', async (t) => {
    await t.rejects(tsray.get(c.fn('alloc-tensors').options(half).remote(0, 65536, 100, false)), { name: 'OutOfMemoryError' });
    t.equal(await used(), 0, 'after a trap');
    const timed = c.fn('hold-then-spin').options({ ...half, timeoutMs: 1500 }).remote(0, 65536, 0);
    await until(async () => (await used()) === 262144, 5000, 'the spinning task to hold its tensor');
    await t.rejects(tsray.get(timed), { name: 'TaskTimeoutError' });
    await until(async () => (await used()) === 0, 5000, 'the timed-out task\'s tensor to be freed');
    const spinning = c.fn('hold-then-spin').options(half).remote(0, 65536, 0);
    await until(async () => (await used()) === 262144, 5000, 'the spinning task to hold its tensor');
    tsray.cancel(spinning, { force: true });
    await t.rejects(tsray.get(spinning), { name: 'TaskCancelledError' });
    await until(async () => (await used()) === 0, 5000, 'the cancelled task\'s tensor to be freed');
    t.pass('the device memory came back each time');
    t.equal(await tsray.get(c.fn('tensor-matmul').options(half).remote(0, 1, 1, 1, [3], [4], 0)).then((r) => r[0]), 12, 'and the device still works');
  });
}
