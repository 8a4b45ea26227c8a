// The driver's lineage table (host/cluster/lineage.ts): a kept task is found by each of its results, a run made
// again stands for them all while it runs (so a second lost result of it is not refused), and the task is let go
// once its last result is freed.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { Lineage } = await source('host/cluster/lineage.ts');

const task = (...ids) => ({ returns: ids.map((id) => ({ id })) });

t.test('kept by each result, replaced by its new run, let go with its last result', async (t) => {
  const gone = [];
  const l = new Lineage((w) => gone.push(w));
  const first = task('a', 'b');
  l.keep(first, () => true);
  t.equal(l.of('a'), first);
  t.equal(l.of('b'), first);
  const again = task('a', 'b');
  l.replace(first, again);
  t.equal(l.of('b'), again, 'the other result is found running again');
  l.forget(again); // the new run ended...
  l.keep(again, () => true); // ...and is kept anew
  t.equal(l.size, 1, 'one task kept, not two');
  l.freed('a');
  t.same(gone, [], 'kept while a result remains');
  l.freed('b');
  t.same(gone, [again], 'let go with its last result');
  t.equal(l.of('a'), undefined);
  t.equal(l.size, 0);
});

t.test('results already freed when a task is kept do not count; none left lets it go at once', async (t) => {
  const gone = [];
  const l = new Lineage((w) => gone.push(w));
  const w = task('x', 'y');
  l.keep(w, (id) => id === 'y');
  t.equal(l.of('x'), undefined);
  l.freed('y');
  t.same(gone, [w]);
  const none = task('z');
  l.keep(none, () => false);
  t.same(gone, [w, none], 'a task none of whose results exists is let go at once');
});
