import asc from 'assemblyscript/asc';
import { build } from 'tsray';
import { readFileSync } from 'node:fs';
import { resolve, join, sep } from 'node:path';
const b = await build({ entry: 'guest/examples/matrix.ts', wit: 'wit', world: 'matrix' });
const glueFile = resolve('guest/examples/__tsray_glue.ts');
async function comp(extra) {
  const outputs = new Map(); let err='';
  const args = ['guest/examples/__tsray_glue.ts','-o','core.wasm','--config','asconfig.json','--target','release','--runtime','incremental','--use','abort=~lib/tsray/runtime/tsrayAbort','--noColors', ...extra];
  const { error } = await asc.main(args, {
    readFile(name, baseDir) { const full = resolve(baseDir, name); if (full === glueFile) return b.glue;
      const pkg = `${sep}node_modules${sep}tsray${sep}`; const at = full.lastIndexOf(pkg);
      if (at >= 0) { try { return readFileSync(join('guest/sdk', full.slice(at + pkg.length)), 'utf8'); } catch { return null; } }
      try { return readFileSync(full, 'utf8'); } catch { return null; } },
    writeFile(n, c) { outputs.set(n, c); }, listFiles() { return []; },
    stdout: { write(s) { return true; } }, stderr: { write(s) { err += s; return true; } } });
  if (error) console.log(err);
  return outputs.get('core.wasm');
}
const t = (f, n=1) => { const t0=process.hrtime.bigint(); for(let i=0;i<n;i++) f(); return Number(process.hrtime.bigint()-t0)/n/1e3; };
for (const extra of [[], ['-O3'], ['--optimizeLevel','3','--shrinkLevel','0'], ['-O3', '--noAssert']]) {
  const w = await comp(extra);
  const e = new WebAssembly.Instance(new WebAssembly.Module(w), {'tsray:runtime/host': {log(){}}}).exports;
  const N=1<<20; const ptr = e.__tsray_e0 ? null : null;
  const p = e.cabi_realloc(0,0,8,N*8)>>>0; new Float64Array(e.memory.buffer,p,N).fill(1.5);
  const f = e.__tsray_e0;
  f(p,N); f(p,N);
  console.log(JSON.stringify(extra), 'size', w.length, 'sum us', t(()=>f(p,N),5).toFixed(0), 'inst us', t(()=>new WebAssembly.Instance(new WebAssembly.Module(w), {'tsray:runtime/host': {log(){}}}),1).toFixed(0));
}
