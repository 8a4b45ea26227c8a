// Piscina worker for bench/tasks.mjs: the same trivial function as the
// `add` export of build/matrix.wasm, as plain JavaScript.
export default ({ a, b }) => a + b;
