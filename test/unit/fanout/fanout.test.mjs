// The transfer tree's bookkeeping (host/cluster/fanout.ts): an object server sends an object to FANOUT pullers at
// once, sends the rest to nodes that hold it (the least loaded, each FANOUT at a time), makes them wait when
// nobody has room, and wakes them as transfers end or holders appear; a holder's load ends with its puller's word
// or its timeout.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Fanout, REDIRECT_MS } = await source('host/cluster/fanout.ts');

const holder = (n) => ({ nodeId: `n${n}`, address: `ws://h${n}`, objectId: `c${n}`, size: 8, key: 'k' });

t.test('a tree: two served here, the rest sent to holders or waiting, woken in order', async (t) => {
  let now = 0;
  const f = new Fanout(2, () => now);
  t.same(f.decide('x'), { serve: true });
  t.same(f.decide('x'), { serve: true });
  t.same(f.decide('x'), { wait: true }, 'a third waits: no room here, no holder yet');
  const woken = [];
  const retry = (name) => () => woken.push([name, f.decide('x')]);
  f.wait('x', retry('p3'));
  f.wait('x', retry('p4'));
  f.hold('x', holder(1));
  t.same(woken, [['p3', { redirect: holder(1) }], ['p4', { redirect: holder(1) }]], 'a holder appears: both waiting pulls go to it');
  t.same(f.decide('x'), { wait: true }, 'the holder has two in flight: the next waits');
  f.wait('x', retry('p5'));
  f.served('x');
  t.same(woken.at(-1), ['p5', { serve: true }], 'a transfer here ended: the waiting pull is served here');
  f.hold('x', holder(2), 'ws://h1');
  t.same(f.decide('x'), { redirect: holder(2) }, 'the least loaded holder is chosen');
  t.same(f.decide('x'), { redirect: holder(1) }, 'its load dropped when its puller said it holds the object');
  t.same(f.decide('x', true), { serve: true }, 'a direct pull is served whatever the load');
});

t.test('loads expire, copies drop, and idle objects are forgotten', async (t) => {
  let now = 0;
  const f = new Fanout(1, () => now);
  t.same(f.decide('y'), { serve: true });
  f.hold('y', holder(1));
  t.same(f.decide('y'), { redirect: holder(1) });
  t.same(f.decide('y'), { wait: true }, 'the holder is busy');
  now += REDIRECT_MS + 1;
  t.same(f.decide('y'), { redirect: holder(1) }, 'a pull that never said it finished stops counting');
  f.drop('y', 'ws://h1');
  t.same(f.decide('y'), { wait: true }, 'a dropped copy is not offered');
  f.served('y');
  t.equal(f.size, 0, 'nothing served, waiting or held: forgotten');
  const off = new Fanout(0);
  for (let i = 0; i < 5; i++) t.same(off.decide('z'), { serve: true }, 'fanout 0: every pull is served here');
  const g = new Fanout(1);
  g.decide('w');
  let retried = 0;
  g.wait('w', () => { retried++; });
  g.forget('w');
  t.equal(retried, 1, 'an object gone from here wakes its waiters (they find it missing)');
  t.equal(g.size, 0);
});
