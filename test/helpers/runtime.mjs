// Helpers for tests of the runtime.
import * as tsray from 'tsray';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `body` inside an init/shutdown pair, shutting down even when it fails. */
export async function withRuntime(opts, body) {
  await tsray.init(opts);
  try {
    await body();
  } finally {
    await tsray.shutdown();
  }
}

/** The error `f` throws or rejects with (undefined, and a failure, when it does not). */
export async function caught(t, f, what = 'expected an error') {
  try {
    await f();
  } catch (e) {
    return e;
  }
  t.fail(what);
  return undefined;
}
