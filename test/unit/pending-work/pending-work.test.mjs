// Pending work, shared by tasks, actor creations, actor calls and the cluster driver:
// waiting for ref arguments (held while waiting), failing on the first failure, ordered lanes, settling returns.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { source } from '../../helpers/source.mjs';

const { ArgWaits, Lane, settleReturns } = await source('host/core/pending-work.ts');
const { ObjectStore } = await source('store/object-store.ts');
const { InvalidArgumentError } = await source('host/errors.ts');

const PENDING_TASK = 1;
const dir = mkdtempSync(join(tmpdir(), 'tsray-pending-work-'));
const store = new ObjectStore({
  nodeId: 'unit', capacity: 64 * 2 ** 20, spillDir: dir, spillThreshold: 0.8, minSpillBytes: 2 ** 20,
  localFsCapacityThreshold: 0.95, recordTaskCallSites: false,
});
t.teardown(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });

const held = (ref) => store.objects().find((o) => o.id === ref.id)?.counts[PENDING_TASK] ?? 0;

/** An owner that records what the waits tell it. */
function owner() {
  const log = [];
  const waits = new ArgWaits(store, PENDING_TASK, {
    waiting: (w) => !w.done,
    ready: (w) => log.push(['ready', w.name]),
    failed: (w, e) => { w.done = true; log.push(['failed', w.name, e]); waits.release(w); },
    name: (w) => `task '${w.name}'`,
  });
  const item = (name, args) => ({ name, args, pendingDeps: 0, holds: false, done: false });
  return { waits, log, item };
}

t.test('ready once every ref argument is, holding them meanwhile; plain values do not wait', async (t) => {
  const { waits, log, item } = owner();
  const a = store.create();
  const b = store.put(7);
  const w = item('sum', [a, 5, b]);
  waits.start(w);
  t.same(log, [], 'waits for the pending argument');
  t.equal(w.pendingDeps, 1);
  t.equal(held(a), 1, 'the pending argument is held');
  t.equal(held(b), 1, 'the ready argument is held too');
  store.resolve(a, 1);
  t.same(log, [['ready', 'sum']], 'ready once, when the last argument is');
  waits.release(w);
  waits.release(w);
  t.equal(held(b), 0, 'released once, however often asked');
  const now = item('now', [b, 1]);
  waits.start(now);
  t.same(log.at(-1), ['ready', 'now'], 'ready at once when every argument already is');
});

t.test('the first failure fails the item at once, without waiting for the rest', async (t) => {
  const { waits, log, item } = owner();
  const slow = store.create();
  const bad = store.create();
  const w = item('pair', [slow, bad]);
  waits.start(w);
  const boom = new Error('boom');
  store.fail(bad, boom);
  t.equal(log.length, 1);
  t.equal(log[0][0], 'failed');
  t.equal(log[0][2], boom, 'with the argument\'s own error');
  t.equal(held(slow), 0, 'its holds are let go');
  store.resolve(slow, 1);
  t.equal(log.length, 1, 'a later argument changes nothing');
});

t.test('a released ref fails the item with InvalidArgumentError naming it, before anything is held', async (t) => {
  const { waits, log, item } = owner();
  const r = store.put(1);
  r.release();
  const w = item('late', [r]);
  waits.start(w);
  t.ok(log[0][2] instanceof InvalidArgumentError);
  t.match(log[0][2].message, /^task 'late' got .* which was released/);
  t.equal(w.holds, false);
});

t.test('a lane sends in order: an item waiting for an argument holds back those after it', async (t) => {
  const sent = [];
  const lane = new Lane((w) => !w.cancelled, (w) => sent.push(w.name));
  const mk = (name, pendingDeps = 0) => ({ name, args: [], pendingDeps, holds: false, cancelled: false });
  const [one, two, three, four] = [mk('one'), mk('two', 1), mk('three'), mk('four')];
  for (const w of [one, two, three, four]) lane.push(w);
  lane.drain();
  t.same(sent, ['one'], 'stops at the item still waiting');
  three.cancelled = true;
  two.pendingDeps = 0;
  lane.drain();
  t.same(sent, ['one', 'two', 'four'], 'then the rest in order; an item that stopped waiting is dropped');
  const five = mk('five');
  const six = mk('six');
  lane.push(five);
  lane.push(six);
  lane.drain(() => sent.length < 4);
  t.same(sent, ['one', 'two', 'four', 'five'], 'more() bounds how many go');
  lane.unshift(mk('again'));
  t.same(lane.takeAll().map((w) => w.name), ['again', 'six'], 'a resent item goes first');
});

t.test('settling: one return takes the value, several take the parts, an error fails them all', async (t) => {
  const [x] = [store.create()];
  settleReturns(store, [x], { value: 3 });
  t.equal(store.value(x), 3);
  const pair = [store.create(), store.create()];
  settleReturns(store, pair, { value: ['a', 'b'] });
  t.same(pair.map((r) => store.value(r)), ['a', 'b']);
  const lost = [store.create(), store.create()];
  const e = new Error('no');
  settleReturns(store, lost, e);
  t.same(lost.map((r) => store.peek(r)), [{ ok: false, error: e }, { ok: false, error: e }]);
});
