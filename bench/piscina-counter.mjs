// Piscina worker for bench/actors.mjs: a stateful counter, the same thing as
// the `counter` actor of build/counter.wasm in plain JavaScript. Run the pool
// with one thread so that every call sees the same state: `pool.run(by)`
// increments the module-level counter by `by` and returns the new value.
let value = 0;

export default (by) => (value += by);
