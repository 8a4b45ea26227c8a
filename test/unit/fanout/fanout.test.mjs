// The transfer tree's bookkeeping (host/cluster/fanout.ts): an object server sends an object itself to FANOUT
// sharing pullers, sends the rest to nodes that hold it (the least loaded, each FANOUT at a time), makes them wait
// when nobody has room, and wakes them as holders appear; pullers that do not share are served at once; a holder's
// load ends with its puller's word or its timeout.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Fanout, REDIRECT_MS, WAIT_MS } = await source('host/cluster/fanout.ts');

const holder = (n) => ({ nodeId: `n${n}`, address: `ws://h${n}`, objectId: `c${n}`, size: 8, key: 'k' });

const sharer = { sharer: true };

t.test('a tree: two served here, the rest sent to holders or waiting, woken in order', async (t) => {
  let now = 0;
  const f = new Fanout(2, () => now);
  t.same(f.decide('x', sharer), { serve: true });
  t.same(f.decide('x', sharer), { serve: true });
  t.same(f.decide('x', sharer), { wait: true }, 'a third waits: the origin seeded two, no holder yet');
  f.served('x');
  t.same(f.decide('x', sharer), { wait: true }, 'still: the origin sends it to two sharers in all, then leaves it to holders');
  t.same(f.decide('x'), { serve: true }, 'a puller that does not share (a driver) is served at once');
  const woken = [];
  const retry = (name) => () => woken.push([name, f.decide('x', sharer)]);
  f.wait('x', retry('p3'));
  f.wait('x', retry('p4'));
  f.wait('x', retry('p5'));
  f.hold('x', holder(1));
  t.same(woken, [['p3', { redirect: holder(1) }], ['p4', { redirect: holder(1) }], ['p5', { wait: true }]], 'a holder appears: it takes two, the third waits again');
  f.hold('x', holder(2), 'ws://h1');
  t.same(f.decide('x', sharer), { redirect: holder(2) }, 'the least loaded holder is chosen');
  t.same(f.decide('x', sharer), { redirect: holder(1) }, 'its load dropped when its puller said it holds the object');
  t.same(f.decide('x', { sharer: true, direct: true }), { serve: true }, 'a direct pull is served whatever the load');
});

t.test('a server sends the object itself again only when nothing here is making a holder and none came for WAIT_MS', async (t) => {
  let now = 0;
  const f = new Fanout(1, () => now);
  t.same(f.decide('v', sharer), { serve: true });
  now += 5_000;
  t.same(f.decide('v', sharer), { wait: true }, 'its one seeded transfer still runs: wait, however long it takes');
  // A waiting pull, as the server keeps one: woken, it waits again.
  const again = () => f.wait('v', again);
  f.wait('v', again);
  f.served('v');
  now += WAIT_MS - 1;
  t.same(f.decide('v', sharer), { wait: true }, 'the transfer just ended: its puller may announce a copy');
  now += 1;
  t.same(f.decide('v', sharer), { serve: true }, 'no holder came: sent here');
  t.same(f.decide('v', sharer), { wait: true }, 'one at a time');
});

t.test('loads expire, copies drop, and idle objects are forgotten', async (t) => {
  let now = 0;
  const f = new Fanout(1, () => now);
  t.same(f.decide('y', sharer), { serve: true });
  f.hold('y', holder(1));
  t.same(f.decide('y', sharer), { redirect: holder(1) });
  t.same(f.decide('y', sharer), { wait: true }, 'the holder is busy');
  now += REDIRECT_MS + 1;
  t.same(f.decide('y', sharer), { redirect: holder(1) }, 'a pull that never said it finished stops counting');
  f.drop('y', 'ws://h1');
  t.same(f.decide('y', sharer), { wait: true }, 'a dropped copy is not offered');
  f.served('y');
  t.equal(f.size, 0, 'nothing served, waiting or held: forgotten');
  const off = new Fanout(0);
  for (let i = 0; i < 5; i++) t.same(off.decide('z', sharer), { serve: true }, 'fanout 0: every pull is served here');
  const g = new Fanout(1);
  g.decide('w', sharer);
  let retried = 0;
  g.wait('w', () => { retried++; });
  g.forget('w');
  t.equal(retried, 1, 'an object gone from here wakes its waiters (they find it missing)');
  t.equal(g.size, 0);
});
