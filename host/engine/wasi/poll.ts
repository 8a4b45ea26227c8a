/**
 * `wasi:io/poll` and `wasi:io/error`. A pollable either is ready now
 * (streams: stdio never blocks, stdin is at its end) or becomes ready at a
 * monotonic-clock deadline (the clock's subscriptions). Waiting sleeps through
 * the embedder's `sleep`, in slices, so a cancel or timeout ends it.
 */
import { MAX_POLL_LIST, SLEEP_SLICE_MS } from './capabilities.js';
import { trap, type WasiContext } from './context.js';

const NS_PER_MS = 1_000_000n;

/** Sleeps until the monotonic clock reaches `deadline`, checking for a cancel between slices. */
function waitUntil(ctx: WasiContext, deadline: bigint): void {
  for (;;) {
    const left = deadline - ctx.monotonic();
    if (left <= 0n) return;
    const ms = left / NS_PER_MS + (left % NS_PER_MS === 0n ? 0n : 1n);
    ctx.io.sleep(ms > BigInt(SLEEP_SLICE_MS) ? SLEEP_SLICE_MS : Number(ms));
    ctx.io.checkpoint();
  }
}

/** `wasi:io/poll.pollable`. */
export class Pollable {
  readonly #ctx: WasiContext;
  /** Monotonic nanoseconds at which it is ready; undefined: ready now. */
  readonly #deadline: bigint | undefined;

  constructor(ctx: WasiContext, deadline?: bigint) {
    this.#ctx = ctx;
    this.#deadline = deadline;
  }

  /** The deadline, for `poll` (undefined: ready now). */
  get deadline(): bigint | undefined { return this.#deadline; }

  ready(): boolean {
    this.#ctx.io.checkpoint();
    return this.#deadline === undefined || this.#ctx.monotonic() >= this.#deadline;
  }

  block(): void {
    this.#ctx.io.checkpoint();
    if (this.#deadline !== undefined) waitUntil(this.#ctx, this.#deadline);
  }
}

/** `wasi:io/poll.poll`: the indices of the ready pollables, waiting for the first one if none is. */
export function poll(ctx: WasiContext, pollables: Pollable[]): Uint32Array {
  ctx.io.checkpoint();
  if (pollables.length === 0) trap('wasi:io/poll.poll', 'poll was given no pollables');
  if (pollables.length > MAX_POLL_LIST) trap('wasi:io/poll.poll', `poll was given ${pollables.length} pollables; at most ${MAX_POLL_LIST} are allowed`);
  for (;;) {
    const now = ctx.monotonic();
    const ready: number[] = [];
    let first: bigint | undefined;
    pollables.forEach((p, i) => {
      const d = p.deadline;
      if (d === undefined || d <= now) ready.push(i);
      else if (first === undefined || d < first) first = d;
    });
    if (ready.length > 0) return Uint32Array.from(ready);
    // Not empty and none ready: every one has a deadline, so `first` is set.
    waitUntil(ctx, first as bigint);
  }
}

/** `wasi:io/error.error`: what a failed stream operation says. */
export class IoError {
  readonly #message: string;

  constructor(message: string) {
    this.#message = message;
  }

  toDebugString(): string {
    return this.#message;
  }
}

/** The `wasi:io/poll` and `wasi:io/error` interfaces. */
export function ioPollImports(ctx: WasiContext): Record<string, Record<string, unknown>> {
  return {
    'wasi:io/poll': { Pollable, poll: (list: Pollable[]) => poll(ctx, list) },
    'wasi:io/error': { Error: IoError },
  };
}
