/**
 * A function called on a block in pieces (`TaskSpec.each`): on slices of
 * `batch` rows, or on each row, in one instance, the results made into one
 * block. A result of the wrong shape is the task's `TaskError`.
 */
import { blockFromItems, concatBlocks, numRows, rowOf, sliceBlock, type Block } from '../abi/block.js';
import type { Each } from '../core/specs.js';
import { TaskError } from '../errors.js';

/** `call(args)` as `each` says, its first argument the block. */
export function callShaped(fnName: string, each: Each | undefined, args: unknown[], call: (args: unknown[]) => unknown): unknown {
  if (!each) return call(args);
  const [block, ...rest] = args as [Block, ...unknown[]];
  const n = numRows(block, 'the block');
  const fail = (what: string): never => { throw new TaskError(fnName, what); };
  if ('batch' in each) {
    const parts: Block[] = [];
    for (let i = 0; i < n || (i === 0 && n === 0); i += each.batch) {
      const out = call([sliceBlock(block, i, Math.min(n, i + each.batch)), ...rest]) as Block;
      try { numRows(out, `the result of ${fnName}`); } catch (e) { fail((e as Error).message); }
      parts.push(out);
    }
    return concatBlocks(parts);
  }
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const out = call([rowOf(block, i), ...rest]);
    if (each.rows === 'map') rows.push(isRow(out) ? out : fail(`map: ${fnName} must return a row (a record), got ${describe(out)}`));
    else if (Array.isArray(out) && out.every(isRow)) rows.push(...out);
    else fail(`flatMap: ${fnName} must return a list of rows (records), got ${describe(out)}`);
  }
  try {
    return blockFromItems(rows);
  } catch (e) {
    return fail(`the rows ${fnName} returned do not make a block: ${(e as Error).message}`);
  }
}

const isRow = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x);
const describe = (x: unknown): string => (Array.isArray(x) ? 'a list' : x === null ? 'null' : typeof x);
