// The one error codec for workers and the wire: every tsray error class round-trips with its class, code, message and fields.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const errors = await source('host/errors.ts');
const { toWire, fromWire } = await source('host/core/error-codec.ts');

t.test('typed errors come back as the same class with the same code and fields', async (t) => {
  const cases = [
    new errors.TaskError('sum', 'boom', { payload: { tag: 'too-big', val: 3 }, guestStack: 'at f' }),
    new errors.OutOfMemoryError('grow', 'over the budget'),
    new errors.TaskCancelledError('slow'),
    new errors.ActorDiedError('a1', 'it was killed'),
    new errors.ArgumentTypeError('argument x: not a string'),
    new errors.WitError('w.wit', 3, 4, 'unexpected token'),
    new errors.NotGivenError('actor abc was not passed to this task'),
  ];
  for (const e of cases) {
    const wire = toWire(e);
    const back = fromWire(structuredClone(wire));
    t.ok(back instanceof e.constructor, `${e.name} keeps its class`);
    t.equal(back.code, e.code, `${e.name} keeps its code`);
    t.equal(back.message, e.message, `${e.name} keeps its message`);
    for (const [k, v] of Object.entries(e)) t.same(back[k], v, `${e.name}.${k} travels`);
  }
});

t.test('an error that is not a tsray error becomes ERR_INTERNAL, saying where when told', async (t) => {
  const back = fromWire(toWire(new RangeError('bad')), "'sum' hit an internal error in its worker");
  t.ok(back instanceof errors.TsrayError);
  t.equal(back.code, 'ERR_INTERNAL');
  t.match(back.message, /^'sum' hit an internal error in its worker: RangeError: bad/);
});

t.test('a hostile wire error cannot replace the prototype or the code', async (t) => {
  const w = JSON.parse('{"name":"TaskError","code":"ERR_TASK","message":"m","fields":{"__proto__":{"polluted":1},"constructor":1,"code":"ERR_AUTH","functionName":"f"}}');
  const back = fromWire(w);
  t.ok(back instanceof errors.TaskError);
  t.equal(back.code, 'ERR_TASK');
  t.equal(back.functionName, 'f');
  t.equal(back.polluted, undefined);
  t.equal({}.polluted, undefined, 'Object.prototype is untouched');
  const unknown = fromWire({ name: 'Nope', code: 'ERR_X', message: 'm' });
  t.equal(unknown.constructor, errors.TsrayError, 'an unknown class name gives the base class');
});
