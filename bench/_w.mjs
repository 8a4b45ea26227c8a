import { build } from 'tsray';
import binaryen from 'binaryen';
const b = await build({ entry: 'guest/examples/matrix.ts', wit: 'wit', world: 'matrix' });
const m = binaryen.readBinary(b.core);
const txt = m.emitText();
for (const f of ['$5','$18']) { const i = txt.indexOf(`\n (func ${f} `); const j = txt.indexOf('\n (func', i+5); console.log(txt.slice(i, j)); }
console.log(b.core.length);
