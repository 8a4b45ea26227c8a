/**
 * `wasi:clocks` (capability `wasi:clocks`): the monotonic clock with its
 * subscriptions, and the wall clock. Both read the embedder's `io.now()`; the
 * monotonic clock is that time held still whenever it would go back.
 */
import type { WasiContext } from './context.js';
import { Pollable } from './poll.js';

/** What both clocks claim as their resolution, in nanoseconds (`systemNow` reads microseconds). */
export const CLOCK_RESOLUTION_NS = 1000n;

const NS_PER_S = 1_000_000_000n;

/** The system's wall-clock time in nanoseconds since the Unix epoch, to the microsecond: the default `io.now`. */
export function systemNow(): bigint {
  // timeOrigin + now() never goes back while the process lives, unlike Date.now().
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** The `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` interfaces. */
export function clocksImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  const mono = (fn: string) => ctx.need('wasi:clocks', `wasi:clocks/monotonic-clock.${fn}`);
  const wall = (fn: string) => ctx.need('wasi:clocks', `wasi:clocks/wall-clock.${fn}`);
  return {
    'wasi:clocks/monotonic-clock': {
      now: (): bigint => { mono('now'); return ctx.monotonic(); },
      resolution: (): bigint => { mono('resolution'); return CLOCK_RESOLUTION_NS; },
      subscribeInstant: (when: bigint): Pollable => { mono('subscribe-instant'); return new Pollable(ctx, when); },
      subscribeDuration: (duration: bigint): Pollable => { mono('subscribe-duration'); return new Pollable(ctx, ctx.monotonic() + duration); },
    },
    'wasi:clocks/wall-clock': {
      now: () => {
        wall('now');
        const ns = ctx.io.now();
        const t = ns < 0n ? 0n : ns;
        return { seconds: t / NS_PER_S, nanoseconds: Number(t % NS_PER_S) };
      },
      resolution: () => { wall('resolution'); return { seconds: 0n, nanoseconds: Number(CLOCK_RESOLUTION_NS) }; },
    },
  };
}
