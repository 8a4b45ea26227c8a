/**
 * The marker for a task argument that lives in an arena: `{ [STORED_ARG]:
 * [arena, offset, length] }`, and the pins that keep such arguments in
 * place while a worker reads them. Its own module so worker threads can
 * import the marker without the store.
 */
import type { ObjectRef } from './object-ref.js';

export const STORED_ARG = '\u0000tsray:stored';

/** The pins one piece of work holds for the worker thread reading its arguments. */
export interface ArgPins {
  readonly pinned: ObjectRef[];
  pinTid: number;
}
