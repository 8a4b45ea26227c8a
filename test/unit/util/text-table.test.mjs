// The CLI's text tables: aligned columns, and every cell escaped, since a cell may hold a guest's text.
import t from 'tap';
import { source } from '../../helpers/source.mjs';

const { textTable } = await source('host/util/text-table.ts');

t.test('columns align; the last is not padded', async (t) => {
  t.equal(textTable([['A', 'BB'], ['ccc', 'd']]), 'A    BB\nccc  d');
  t.equal(textTable([['A', 'BB'], ['ccc', 'd']], true), 'A BB\nccc d', 'plain: space-separated fields');
});

t.test('a cell cannot break the line or drive the terminal', async (t) => {
  const out = textTable([['DEATH'], ['trap\x1b[2J\nhere\u202e']]);
  t.equal(out.split('\n').length, 2, 'one line per row');
  t.notMatch(out, /[\x1b\u202e]/, 'no escape sequences or bidi overrides reach the terminal');
  t.match(out, /trap\\x1b\[2J\\nhere\\u202e/, 'they are shown escaped');
});
