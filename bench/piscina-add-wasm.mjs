// Piscina worker for bench/tasks.mjs: the `add` export of the matrix example's
// core WebAssembly module (its bytes arrive as workerData), instantiated once
// per worker thread and called directly, with stub host imports.
import { workerData } from 'piscina';

const mod = new WebAssembly.Module(workerData);
const imports = {};
for (const imp of WebAssembly.Module.imports(mod)) {
  if (imp.kind !== 'function') throw new Error(`unexpected ${imp.kind} import ${imp.module}#${imp.name}`);
  (imports[imp.module] ??= {})[imp.name] = () => 0;
}
const { add, cabi_post_add: post } = new WebAssembly.Instance(mod, imports).exports;

export default typeof post === 'function'
  ? ({ a, b }) => { const v = add(a, b); post(v); return v; }
  : ({ a, b }) => add(a, b);
