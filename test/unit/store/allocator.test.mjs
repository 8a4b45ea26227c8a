// The arena allocator: page-aligned best fit, coalescing on release.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Allocator, ALIGN } = await source('store/allocator.ts');

t.test('blocks are page aligned, never overlap, and coalesce back into one', async (t) => {
  const a = new Allocator(64 * ALIGN);
  const x = a.alloc(1);
  const y = a.alloc(ALIGN + 1);
  const z = a.alloc(3 * ALIGN);
  t.same([x % ALIGN, y % ALIGN, z % ALIGN], [0, 0, 0]);
  t.ok(x + ALIGN <= y && y + 2 * ALIGN <= z, 'sizes round up to whole pages and do not overlap');
  t.equal(a.used, 6 * ALIGN);
  a.release(y, ALIGN + 1);
  a.release(x, 1);
  a.release(z, 3 * ALIGN);
  t.equal(a.used, 0);
  t.equal(a.largestFree, 64 * ALIGN, 'every released block merged back');
  t.equal(a.holes, 1);
});

t.test('a block that does not fit is refused, and best fit keeps large holes whole', async (t) => {
  const a = new Allocator(16 * ALIGN);
  const blocks = [a.alloc(4 * ALIGN), a.alloc(ALIGN), a.alloc(8 * ALIGN), a.alloc(ALIGN)];
  t.ok(blocks.every((b) => b >= 0));
  t.equal(a.alloc(3 * ALIGN), -1, 'only 2 pages are left');
  a.release(blocks[0], 4 * ALIGN);
  a.release(blocks[2], 8 * ALIGN);
  const small = a.alloc(ALIGN);
  t.equal(small, 14 * ALIGN, 'the smallest hole that fits (the 2-page tail) is used');
  t.equal(a.largestFree, 8 * ALIGN, 'the large hole stays whole');
});
