import { build } from 'tsray';
const b = await build({ entry: 'guest/examples/matrix.ts', wit: 'wit', world: 'matrix' });
console.log(b.glue);
