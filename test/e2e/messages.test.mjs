// Messages that point the way, tried as a new user would.
import t from 'tap';
import * as tsray from 'tsray';
import { prebuilt } from '../helpers/components.mjs';

const [matrix, counter] = await Promise.all(['matrix', 'counter'].map(async (n) => tsray.load(await prebuilt(n))));
await tsray.init({ numCpus: 1 });
t.teardown(() => tsray.shutdown());

t.test('mod.fn on a resource says to make an actor; mod.actor on a function says to use fn', async (t) => {
  const fnOfResource = t.throws(() => counter.fn('counter'));
  t.ok(fnOfResource instanceof tsray.ComponentError);
  t.match(fnOfResource.message, /'counter' is a resource, not a function: create an actor of it with mod\.actor\('counter'\)/);
  const actorOfFn = t.throws(() => matrix.actor('sum'));
  t.ok(actorOfFn instanceof tsray.ComponentError);
  t.match(actorOfFn.message, /'sum' is a function, not a resource: run it as a task with mod\.fn\('sum'\)/);
});

t.test('a missing export lists what the component does export, functions and resources', async (t) => {
  const onlyResources = t.throws(() => counter.fn('nope'));
  t.match(onlyResources.message, /no exported function 'nope'; it exports no functions and resources counter \(actors: mod\.actor\(name\)\)/);
  const onlyFunctions = t.throws(() => matrix.fn('summ'));
  t.match(onlyFunctions.message, /it exports functions .*\bsum\b.*\badd\b|it exports functions .*\badd\b.*\bsum\b/);
});

t.test('an ObjectRef nested in a value is not resolved, and the error says what to do', async (t) => {
  const ref = tsray.put(1.5);
  const e = t.throws(() => matrix.fn('sum').remote([ref, 2]));
  t.ok(e instanceof tsray.ArgumentTypeError, `ArgumentTypeError (got ${e?.constructor?.name})`);
  t.match(e.message, /only a top-level ObjectRef argument is resolved to its value; get\(\) the nested refs first, or pass each ref as an argument of its own/);
  const plain = t.throws(() => matrix.fn('sum').remote(['x']));
  t.notMatch(plain.message, /ObjectRef/, 'no hint when no ref is involved');
  t.equal(await tsray.get(matrix.fn('sum').remote(new Float64Array([await tsray.get(ref), 2]))), 3.5, 'getting it first works');
});
