// Small helpers the benchmarks share: progress lines, medians, quantiles, formatting.

/** A progress printer to stderr, stamped with seconds since it was made. */
export function makeProgress(start = performance.now()) {
  return (msg) => process.stderr.write(`[${((performance.now() - start) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The q-quantile of an already sorted array. */
export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Yields to the event loop once. */
export const tick = () => new Promise((r) => setImmediate(r));

export const fmtInt = (x) => Math.round(x).toLocaleString('en-US');
