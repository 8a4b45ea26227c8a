// The tree reads like a map: no source file over 400 lines unless its header says why.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LIMIT = 400;

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? sources(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

t.test(`every source file has at most ${LIMIT} lines, or a header that says why it is longer`, async (t) => {
  const files = [...sources(join(ROOT, 'host')), ...sources(join(ROOT, 'store'))];
  t.ok(files.length > 100, `${files.length} source files found`);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines <= LIMIT) continue;
    // The header comment as prose: line breaks and the leading asterisks folded into spaces.
    const header = text.slice(0, text.indexOf('*/') + 2).replace(/\s*\n\s*\*?\s*/g, ' ');
    t.match(header, new RegExp(`Longer than ${LIMIT} lines because`), `${relative(ROOT, f)} has ${lines} lines: its header must say why`);
  }
});
