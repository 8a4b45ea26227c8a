import { build } from 'tsray';
const b = await build({ entry: 'guest/examples/matrix.ts', wit: 'wit', world: 'matrix' });
const core = new WebAssembly.Module(b.core);
const imp = {'tsray:runtime/host': {log(){}}};
const I = () => new WebAssembly.Instance(core, imp);
const x = I(); console.log('pages', x.exports.memory.buffer.byteLength/65536);
const t = (f, n=1) => { const t0=process.hrtime.bigint(); for(let i=0;i<n;i++) f(); return Number(process.hrtime.bigint()-t0)/n/1e3; };
for (let k=0;k<3;k++) console.log('inst us', t(I, 1000));
// empty module with memory 1 page
const { writeFileSync } = await import('node:fs');
const em = new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0, 5,3,1,0,1, 7,7,1,3,109,101,109,2,0]));
for (let k=0;k<3;k++) console.log('empty mem module inst us', t(()=>new WebAssembly.Instance(em,{}), 1000));
const em0 = new WebAssembly.Module(new Uint8Array([0,97,115,109,1,0,0,0]));
for (let k=0;k<3;k++) console.log('empty module no mem us', t(()=>new WebAssembly.Instance(em0,{}), 1000));
for (let k=0;k<3;k++) console.log('new Memory 1 page us', t(()=>new WebAssembly.Memory({initial:1}), 1000));
// sum breakdown
const N = 1<<20; const big = new Float64Array(N).fill(1.5);
const r = I(); const e = r.exports;
for (let k=0;k<4;k++) {
  let ptr; const a = t(()=>{ptr = e.cabi_realloc(0,0,8,N*8)>>>0;});
  const c = t(()=>new Float64Array(e.memory.buffer, ptr, N).set(big));
  let v; const s = t(()=>{v=e.sum(ptr,N);});
  const p = t(()=>e.cabi_post_sum(v));
  console.log('realloc', a.toFixed(0), 'copy', c.toFixed(0), 'sum', s.toFixed(0), 'post', p.toFixed(0), 'us; pages', e.memory.buffer.byteLength/65536);
}
