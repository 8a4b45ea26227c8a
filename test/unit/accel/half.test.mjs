// Host f32 <-> f16 conversion: every half survives a round trip, and f32
// values round to the nearest half with ties to even.
import t from 'tap';
import { source } from '../../helpers/source.mjs';
import { random } from '../../helpers/accel-kernels.mjs';

const { toHalf, fromHalf, encodeHalves, decodeHalves } = await source('host/accel/backends/half.ts');

t.test('known values', async (t) => {
  const cases = [[0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
    [Infinity, 0x7c00], [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [3 * 2 ** -26, 0x0001],
    [2 ** -14, 0x0400], [2 ** -14 - 2 ** -25, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0.1, 0x2e66]];
  for (const [x, h] of cases) t.equal(toHalf(x), h, `${x} -> 0x${h.toString(16)}`);
  t.equal(toHalf(NaN) & 0x7c00, 0x7c00);
  t.not(toHalf(NaN) & 0x3ff, 0, 'NaN stays NaN');
  t.ok(Number.isNaN(fromHalf(0x7e00)));
  t.equal(fromHalf(0x0001), 2 ** -24, 'the smallest subnormal');
});

t.test('every non-NaN half converts back to itself', async (t) => {
  let bad = -1;
  for (let h = 0; h < 65536; h++) {
    const e = (h >>> 10) & 0x1f;
    if (e === 31 && (h & 0x3ff) !== 0) continue;
    if (toHalf(fromHalf(h)) !== h) { bad = h; break; }
  }
  t.equal(bad, -1);
});

t.test('random f32 values round to the nearest half, ties to even', async (t) => {
  const xs = random(20000, 7).map((v, i) => v * 2 ** ((i % 40) - 28));
  let bad;
  for (const x of xs) {
    const h = toHalf(x);
    const d = Math.abs(fromHalf(h) - x);
    for (const o of [h - 1, h + 1]) {
      if ((o & 0x7fff) > 0x7c00 || (o & 0x8000) !== (h & 0x8000)) continue;
      const od = Math.abs(fromHalf(o) - x);
      if (od < d || (od === d && (h & 1) === 1)) bad ??= `${x}: 0x${h.toString(16)} but 0x${o.toString(16)} is nearer or even`;
    }
  }
  t.equal(bad, undefined);
  const enc = new Uint16Array(4);
  encodeHalves(Float32Array.of(1, 2, 3), enc);
  t.same(Array.from(decodeHalves(enc, 3)), [1, 2, 3], 'bulk conversion');
});
