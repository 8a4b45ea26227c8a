/**
 * The marker for a task argument that lives in an arena: `{ [STORED_ARG]:
 * [arena, offset, length] }`. Its own module so worker threads can import it
 * without the store.
 */
export const STORED_ARG = '\u0000tsray:stored';
