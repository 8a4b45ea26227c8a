// The WIT parser and resolver: worlds resolve, errors carry file:line:column, hostile nesting is bounded.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { worldFromText } = await source('host/wit/load.ts');
const { WitError } = await source('host/errors.ts');

t.test('a world with a record, a list and a result resolves', async (t) => {
  const w = worldFromText(`package demo:p;
interface types { record entry { key: string, hits: u32 } }
world probe {
  use types.{entry};
  export count: func(words: list<string>) -> list<entry>;
  export check: func(x: s32) -> result<s32, string>;
}`, 'probe');
  const names = w.exports.filter((e) => e.kind === 'func').map((e) => e.func.name);
  t.same(names.sort(), ['check', 'count']);
});

t.test('a syntax error is a WitError at its line and column', async (t) => {
  const err = t.throws(() => worldFromText('package demo:p;\nworld w {\n  export f: func(a: ) -> u32;\n}\n', 'w', 'bad.wit'));
  t.ok(err instanceof WitError, 'typed');
  t.equal(err.file, 'bad.wit');
  t.equal(err.line, 3);
  t.ok(err.column > 1);
});

t.test('5,000-deep nesting fails fast with a WitError, not a stack overflow', async (t) => {
  const deep = `${'list<'.repeat(5000)}u8${'>'.repeat(5000)}`;
  const t0 = performance.now();
  const err = t.throws(() => worldFromText(`package demo:p;\nworld w { export f: func(a: ${deep}); }\n`, 'w'));
  t.ok(err instanceof WitError, `typed (${err?.message?.slice(0, 80)})`);
  t.ok(performance.now() - t0 < 2000, 'bounded time');
});
