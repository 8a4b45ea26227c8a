// A pooled instance keeps the linear memory an earlier task grew (so the next
// task finds its pages mapped) and still looks fresh to the guest: the size
// it had at instantiation, growth that returns that size, zeros in what it
// grows, and a memory cap that holds however often it is reused
// (host/engine/virtual-memory-size.ts).
import t from 'tap';
import { join } from 'node:path';
import * as tsray from 'tsray';
import { ROOT } from '../helpers/components.mjs';
import { withRuntime } from '../helpers/runtime.mjs';
import { watComponent } from '../helpers/wat-components.mjs';

// probe(pages): grows by `pages`; -1 when growth fails or returns another size than memory.size did,
// -2 when the grown bytes are not all zero; else the size before, in pages. It then dirties what it grew.
const wat = `(module
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
  (func (export "probe") (param $pages i32) (result i32) (local $before i32) (local $p i32) (local $end i32)
    memory.size
    local.set $before
    local.get $pages
    memory.grow
    local.get $before
    i32.ne
    if
      i32.const -1
      return
    end
    local.get $before
    i32.const 16
    i32.shl
    local.tee $p
    local.get $pages
    i32.const 16
    i32.shl
    i32.add
    local.set $end
    block $done
      loop $scan
        local.get $p
        local.get $end
        i32.ge_u
        br_if $done
        local.get $p
        i64.load
        i64.const 0
        i64.ne
        if
          i32.const -2
          return
        end
        local.get $p
        i32.const 8
        i32.add
        local.set $p
        br $scan
      end
    end
    local.get $before
    i32.const 16
    i32.shl
    i32.const 0xab
    local.get $pages
    i32.const 16
    i32.shl
    memory.fill
    local.get $before)
  (func (export "peek") (param $addr i32) (result i32) local.get $addr i32.load8_u))`;

t.test('a reused instance looks fresh: memory size, growth, zeroed pages, and the cap', async (t) => {
  const bytes = await watComponent(wat, ['probe: func(pages: u32) -> s32;', 'peek: func(addr: u32) -> u32;']);
  await withRuntime({ numCpus: 1 }, async () => {
    const m = await tsray.load(bytes);
    const probe = m.fn('probe');
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await tsray.get(probe.remote(64)));
    t.strictSame(seen, new Array(6).fill(1), 'every task sees one page at start, grows from it, and finds the grown 4 MiB zeroed');
    // The one way a guest can tell: memory an earlier task grew is still there (zeroed) past its own size.
    t.equal(await tsray.get(m.fn('peek').remote(10 * 65536)), 0, 'the memory was kept and zeroed: a read past the size is zero, not the 0xab written there');

    // A cap of 5 MiB (80 pages) fits 1 + 64 pages once; reuse must not add up.
    const capped = probe.options({ maxMemoryMb: 5 });
    const runs = [];
    for (let i = 0; i < 6; i++) runs.push(await tsray.get(capped.remote(64)));
    t.strictSame(runs, new Array(6).fill(1), 'under a cap, growth that fits once fits every time');
    t.equal(await tsray.get(capped.remote(80)), -1, 'and growth past the cap fails, as in a fresh instance');
    t.equal(await tsray.get(capped.remote(64)), 1, 'after which the next task is fine');
  });
});

t.test('AssemblyScript guests reuse grown memory under a tight cap without running out', async (t) => {
  await withRuntime({ numCpus: 1 }, async () => {
    const m = await tsray.load(join(ROOT, 'build', 'batches.wasm'));
    const square = m.fn('square').options({ maxMemoryMb: 12 });
    const id = new Float64Array(262144).map((_, i) => i); // 2 MiB in, 2 MiB out
    for (let i = 0; i < 12; i++) {
      const out = await tsray.get(square.remote({ id }));
      if (out.id.length !== id.length || out.id[1000] !== 1000 * 1000) t.fail(`run ${i} gave a wrong block`);
    }
    t.pass('twelve 2 MiB blocks through one pooled instance capped at 12 MiB, all squared right');
  });
});
