// The guest SDK's tsray:accel wrappers build into components whose core imports
// are exactly tsray:accel's functions under the names componentNew accepts (it
// checks every signature against the WIT). Running them needs the host side.
import t from 'tap';
import { join } from 'node:path';
import { build } from 'tsray';
import { ROOT } from '../helpers/components.mjs';

const gpu = [
  'devices', '[static]device.open', '[method]device.info', '[method]device.limits', '[method]device.memory-used',
  '[method]device.create-buffer', '[method]device.create-shader-module', '[method]device.create-compute-pipeline',
  '[method]device.create-bind-group', '[method]device.create-command-encoder', '[method]device.submit', '[method]device.wait',
  '[method]buffer.size', '[method]buffer.usage', '[method]buffer.write', '[method]buffer.read', '[method]buffer.destroy',
  '[method]command-encoder.copy-buffer-to-buffer', '[method]command-encoder.dispatch', '[method]command-encoder.finish',
  ...['device', 'buffer', 'shader-module', 'compute-pipeline', 'bind-group', 'command-encoder', 'command-buffer'].map((r) => `[resource-drop]${r}`),
];
const tensor = [
  '[static]tensor.from-f32', '[static]tensor.zeros', '[method]tensor.shape', '[method]tensor.dtype', '[method]tensor.device',
  '[method]tensor.to-f32', '[method]tensor.matmul', '[method]tensor.add', '[method]tensor.mul', '[method]tensor.scale',
  '[method]tensor.sum', '[method]tensor.max', '[method]tensor.min', '[method]tensor.mean', '[method]tensor.transpose',
  '[method]tensor.cast', '[resource-drop]tensor',
];

const coreImports = (core, prefix) => WebAssembly.Module.imports(new WebAssembly.Module(core))
  .filter((i) => i.module.startsWith(prefix)).map((i) => `${i.module}#${i.name}`).sort();

t.test('every tsray:accel function builds from the SDK, with the legacy core import names', async (t) => {
  const dir = join(ROOT, 'test', 'fixtures', 'accel-all');
  const r = await build({ entry: join(dir, 'accel-all.ts'), wit: dir, world: 'accel-all' });
  t.strictSame(coreImports(r.core, 'tsray:accel/'), [
    ...gpu.map((n) => `tsray:accel/gpu#${n}`), ...tensor.map((n) => `tsray:accel/tensor#${n}`),
  ].sort());
});

t.test('the accel example builds, and a world without tsray:accel imports none of it', async (t) => {
  const r = await build({ entry: join(ROOT, 'guest', 'examples', 'accel.ts'), wit: join(ROOT, 'wit'), world: 'accel' });
  t.ok(r.component.length > 1000);
  t.ok(coreImports(r.core, 'tsray:accel/').length > 20);
  const plain = await build({ entry: join(ROOT, 'guest', 'examples', 'matrix.ts'), wit: join(ROOT, 'wit'), world: 'matrix' });
  t.strictSame(coreImports(plain.core, 'tsray:accel/'), [], 'the SDK re-exports accel, but unused wrappers import nothing');
});
