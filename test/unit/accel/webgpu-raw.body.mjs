// Raw WGSL compute on the WebGPU backend: a shader doubling a vector end to
// end, and guest mistakes surfacing as the WIT error codes, never unseen.
import { gpuProblem } from '../../helpers/software-gpu.mjs';
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const DOUBLE = `
@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&v)) { v[id.x] = v[id.x] * 2.0; }
}`;

const bytes = (f32) => new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
const floats = (u8) => new Float32Array(u8.buffer, u8.byteOffset, u8.byteLength / 4);

if (gpuProblem) {
  t.fail(`WebGPU tests cannot run: ${gpuProblem}`);
} else {
  const { openWebGpuDevices, createWebGpuDevice } = await source('host/accel/backends/webgpu/backend.ts');
  const { requestDefaultAdapter, findSoftwareIcd, listAdapters } = await source('host/accel/backends/webgpu/dawn.ts');
  const [dev] = await openWebGpuDevices(1);
  const raw = dev.raw;
  t.teardown(() => dev.close());

  t.test('a WGSL shader doubles a vector: module, pipeline, bind group, dispatch, read', async (t) => {
    const n = 1000;
    const x = Float32Array.from({ length: n }, (_, i) => i - 500.5);
    const buf = raw.createBuffer(n * 4, { storage: true, copyDst: true, copySrc: true });
    raw.writeBuffer(buf, 0, bytes(x));
    const mod = await raw.createShaderModule(DOUBLE);
    const pipe = await raw.createComputePipeline(mod, 'main');
    const group = await raw.createBindGroup(pipe, 0, [{ binding: 0, buffer: buf, offset: 0 }]);
    const enc = raw.createCommandEncoder();
    raw.dispatch(enc, pipe, [group], Math.ceil(n / 64), 1, 1);
    raw.dispatch(enc, pipe, [group], Math.ceil(n / 64), 1, 1);
    const copy = raw.createBuffer(16, { copyDst: true });
    raw.copyBufferToBuffer(enc, buf, 0, copy, 0, 16);
    raw.submit([raw.finish(enc)]);
    await dev.wait();
    t.same(Array.from(floats(await raw.readBuffer(buf, 0, n * 4))), Array.from(x, (v) => v * 4), 'two passes: x4');
    t.same(Array.from(floats(await raw.readBuffer(buf, 3992, 8))), [x[998] * 4, x[999] * 4], 'a read at an offset');
    t.same(Array.from(floats(await raw.readBuffer(copy, 0, 16))), Array.from(x.slice(0, 4), (v) => v * 4), 'the copy ran after the passes');
    raw.destroyBuffer(buf);
    await t.rejects(raw.readBuffer(buf, 0, 4), { code: 'invalid-argument' }, 'a destroyed buffer');
  });

  t.test('a WGSL syntax error is validation, with the compiler\'s message', async (t) => {
    await t.rejects(raw.createShaderModule('fn main( {'), { code: 'validation', message: /1:\d+: / });
    const mod = await raw.createShaderModule(DOUBLE);
    await t.rejects(raw.createComputePipeline(mod, 'nope'), { code: 'validation' }, 'an entry point that is not there');
    const pipe = await raw.createComputePipeline(mod, 'main');
    const uni = raw.createBuffer(16, { uniform: true });
    await t.rejects(raw.createBindGroup(pipe, 0, [{ binding: 0, buffer: uni, offset: 0 }]), { code: 'validation' }, 'a uniform buffer where storage is declared');
    await dev.wait();
  });

  t.test('out-of-range and misaligned arguments are invalid-argument before they reach Dawn', async (t) => {
    const buf = raw.createBuffer(64, { storage: true, copySrc: true });
    t.throws(() => raw.writeBuffer(buf, 60, new Uint8Array(8)), { code: 'invalid-argument' }, 'a write past the end');
    t.throws(() => raw.writeBuffer(buf, 2, new Uint8Array(4)), { code: 'invalid-argument' }, 'a misaligned offset');
    t.throws(() => raw.writeBuffer(buf, 0, new Uint8Array(6)), { code: 'invalid-argument' }, 'a length not a multiple of 4');
    await t.rejects(raw.readBuffer(buf, 32, 64), { code: 'invalid-argument' }, 'a read past the end');
    t.throws(() => raw.createBuffer(dev.limits.maxBufferSize + 4, {}), { code: 'invalid-argument' }, 'a buffer past maxBufferSize');
    const other = raw.createBuffer(64, { copyDst: true });
    const enc = raw.createCommandEncoder();
    t.throws(() => raw.copyBufferToBuffer(enc, other, 0, buf, 0, 4), { code: 'invalid-argument' }, 'copy-src usage missing');
    t.throws(() => raw.copyBufferToBuffer(enc, buf, 0, other, 32, 64), { code: 'invalid-argument' }, 'a copy past the end');
    const mod = await raw.createShaderModule(DOUBLE);
    const pipe = await raw.createComputePipeline(mod, 'main');
    const pipe2 = await raw.createComputePipeline(mod, 'main');
    const group = await raw.createBindGroup(pipe, 0, [{ binding: 0, buffer: buf, offset: 0 }]);
    t.throws(() => raw.dispatch(enc, pipe, [group], 70000, 1, 1), { code: 'invalid-argument' }, 'more than 65535 workgroups');
    t.throws(() => raw.dispatch(enc, pipe2, [group], 1, 1, 1), { code: 'invalid-argument' }, 'a bind group of another pipeline');
    raw.dispatch(enc, pipe, [group], 1, 1, 1);
    const cmds = raw.finish(enc);
    t.throws(() => raw.dispatch(enc, pipe, [group], 1, 1, 1), { code: 'invalid-argument' }, 'a finished encoder');
    raw.submit([cmds]);
    t.throws(() => raw.submit([cmds]), { code: 'invalid-argument' }, 'a command buffer submitted twice');
    const enc2 = raw.createCommandEncoder();
    raw.dispatch(enc2, pipe, [group], 1, 1, 1);
    const cmds2 = raw.finish(enc2);
    raw.destroyBuffer(buf);
    t.throws(() => raw.submit([cmds2]), { code: 'invalid-argument' }, 'commands using a destroyed buffer');
    await dev.wait();
  });

  t.test('an error Dawn finds while encoding surfaces at the next wait', async (t) => {
    const mod = await raw.createShaderModule(DOUBLE);
    const pipe = await raw.createComputePipeline(mod, 'main');
    const enc = raw.createCommandEncoder();
    raw.dispatch(enc, pipe, [], 1, 1, 1); // group 0 is required but not bound
    raw.submit([raw.finish(enc)]);
    await t.rejects(dev.wait(), { code: 'validation' });
    await dev.wait();
    t.pass('the error is reported once');
  });

  t.test('after close every call is device-lost', async (t) => {
    const opened = await requestDefaultAdapter();
    const d = await createWebGpuDevice(opened);
    const b = d.raw.createBuffer(16, { storage: true });
    d.close();
    t.throws(() => d.raw.createBuffer(16, {}), { code: 'device-lost' });
    t.throws(() => d.allocTensor('float32', 4), { code: 'device-lost' });
    await t.rejects(d.raw.readBuffer(b, 0, 4), { code: 'device-lost' });
    await t.rejects(d.wait(), { code: 'device-lost' });
  });

  await t.test('adapters: the software ICD, the listing, and several devices', async (t) => {
    t.type(findSoftwareIcd() ?? '', 'string');
    const listed = await listAdapters();
    t.ok(listed.length >= 1, `Dawn lists ${listed.map((a) => `${a.backend}/${a.name}`).join(', ')}`);
    const devs = await openWebGpuDevices(2);
    t.equal(devs.length, 2);
    const [x, y] = devs.map((d) => d.allocTensor('float32', 2));
    devs[0].upload(x, Float32Array.of(1, 2));
    t.throws(() => devs[1].scale(y, x, 2), { code: 'invalid-argument' }, 'a tensor of another device is refused');
    for (const d of devs) d.close();
  });
  // Dawn may abort at exit before tap prints the plan: say that every subtest ran (test/helpers/dawn-child.mjs).
  console.log('# dawn body: 6 subtests ran');
}
