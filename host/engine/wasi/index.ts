/**
 * The WASI 0.2 host for one component instance: every interface
 * `capabilities.ts` lists, built for the capabilities granted, in the shape
 * jco's glue takes as `instantiate`'s imports (keyed by interface name
 * without its version, functions camelCased, resources as classes).
 */
import { checkGrants } from './capabilities.js';
import { cliImports } from './cli.js';
import { clocksImports } from './clocks.js';
import { WasiContext, type WasiIo } from './context.js';
import { filesystemImports } from './filesystem.js';
import { httpImports } from './http.js';
import { ioPollImports } from './poll.js';
import { randomImports } from './random.js';
import { ioStreamsImports } from './streams.js';

export { GRANTABLE, REFUSED, INERT, MAX_RANDOM_BYTES, STDIO_LINE_CHARS, STDIO_WRITE_BYTES, SLEEP_SLICE_MS, MAX_POLL_LIST,
  HTTP_FIELDS_BYTES,
  capabilityOf, checkGrants, checkImports, missingGrants, unknownImports, stripVersion } from './capabilities.js';
export type { Capability, CapabilityOf } from './capabilities.js';
export type { WasiIo } from './context.js';
export { systemNow, CLOCK_RESOLUTION_NS } from './clocks.js';

/** One instance's WASI host. */
export interface WasiHost {
  /** Interface name (no version) -> its functions and resource classes: spread into jco's imports. */
  imports: Record<string, Record<string, unknown>>;
  /** Passes on what stdout and stderr hold of an unfinished line; call it when the task (or actor call) ends. */
  flush(): void;
}

/**
 * The WASI host for one instance, granting `granted` (checked: a refused or
 * unknown name throws `ERR_CAPABILITY`). It reaches nothing but `io`: no
 * files, no network, no environment of this process.
 */
export function wasiHost(granted: ReadonlySet<string>, io: WasiIo): WasiHost {
  checkGrants([...granted]);
  const ctx = new WasiContext(granted, io);
  const cli = cliImports(ctx);
  return {
    imports: {
      ...ioPollImports(ctx),
      ...ioStreamsImports(),
      ...clocksImports(ctx),
      ...randomImports(ctx),
      ...cli.imports,
      ...filesystemImports(() => io.checkpoint()),
      ...httpImports(ctx),
    },
    flush: cli.flush,
  };
}

/** The imports alone, for a caller that does not keep unfinished lines (see `wasiHost` for `flush`). */
export function wasiImports(granted: ReadonlySet<string>, io: WasiIo): Record<string, Record<string, unknown>> {
  return wasiHost(granted, io).imports;
}
