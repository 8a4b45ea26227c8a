// How one actor's calls leave a driver (host/cluster/actor-path.ts): a call never takes one way while calls sent the
// other way are unanswered, so the actor sees them in the order they were made; a lane held back goes on once the
// other way drained; and a refused route is asked for again only after ASK_AGAIN_MS.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { ActorPath, ASK_AGAIN_MS } = await source('host/cluster/actor-path.ts');

t.test('a call waits while the other way has calls in flight', async (t) => {
  const p = new ActorPath('a', 0);
  t.equal(p.next(false), 'head', 'no route: through the head');
  p.sent('head');
  p.sent('head');
  t.equal(p.next(false), 'head', 'more through the head, behind the first');
  t.equal(p.next(true), 'wait', 'a route is held, but two calls through the head are unanswered');
  p.blocked = true;
  t.equal(p.answered('head'), false, 'one answered: still one in flight');
  t.equal(p.next(true), 'wait');
  t.equal(p.answered('head'), true, 'the last one answered: the lane goes on');
  t.equal(p.blocked, false);
  t.equal(p.next(true), 'direct', 'now on the route');
  p.sent('direct');
  t.equal(p.next(false), 'wait', 'a call that cannot go on the route waits for the route to drain');
  p.blocked = true;
  t.equal(p.answered('direct'), true);
  t.equal(p.next(false), 'head');
});

t.test('a direct call lost with its node counts as through the head from then on', async (t) => {
  const p = new ActorPath('a', 1);
  p.sent('direct');
  p.sent('direct');
  p.blocked = true;
  t.equal(p.rerouted(), false, 'one rerouted, one still on the lost route');
  t.equal(p.next(false), 'wait', 'later calls wait behind it');
  t.equal(p.rerouted(), true, 'both rerouted: the lane goes on through the head');
  t.equal(p.next(false), 'head');
  t.equal(p.next(true), 'wait', 'a new route waits for the rerouted calls');
  p.answered('head');
  p.answered('head');
  t.equal(p.next(true), 'direct');
});

t.test('a route is asked for once at a time, and again only ASK_AGAIN_MS after a refusal', async (t) => {
  const p = new ActorPath('a', 0);
  t.equal(p.mayAsk(false, 0), true);
  t.equal(p.mayAsk(true, 0), false, 'not while one is held');
  p.asked();
  t.equal(p.mayAsk(false, 0), false, 'not while asking');
  p.settled(false, 100);
  t.equal(p.mayAsk(false, 100 + ASK_AGAIN_MS - 1), false, 'refused: not again at once');
  t.equal(p.mayAsk(false, 100 + ASK_AGAIN_MS), true);
  p.asked();
  p.settled(true, 5000);
  t.equal(p.mayAsk(false, 5000), true, 'a granted route that ended may be asked for again at once');
});
