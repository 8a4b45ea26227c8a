/**
 * The capability contract: which WASI 0.2 imports a task may have, which of
 * them need a grant, and what each one serves. This file is the one place
 * that says so; the host implementations beside it (see `index.ts`) follow it.
 *
 * A task reaches nothing but what its imports hand it. tsray's own
 * `tsray:runtime/*` interfaces are always served. WASI interfaces fall in
 * three groups:
 *
 * - **Granted** (a task or actor option names them, e.g.
 *   `capabilities: ['wasi:clocks', 'wasi:cli/stdout']`):
 *   - `wasi:clocks`: `wasi:clocks/monotonic-clock` (now, resolution, and
 *     pollables that wait for a duration or an instant) and
 *     `wasi:clocks/wall-clock` (now, resolution).
 *   - `wasi:random`: `wasi:random/random` (bytes from the operating system's
 *     cryptographic generator), `wasi:random/insecure` and
 *     `wasi:random/insecure-seed` (served from the same generator).
 *   - `wasi:cli/stdout`, `wasi:cli/stderr`: the streams write the task's log,
 *     one log line per line of text (see the limits below).
 *   A function of an interface whose capability was not granted throws a
 *   `ComponentError` (`ERR_CAPABILITY`) naming the capability, if it is ever
 *   called; `checkImports` refuses such a component before it runs. Getting
 *   the stdout or stderr stream confers nothing and needs no grant (language
 *   runtimes take all three streams at start-up); every write to it does.
 * - **Served with no authority** (no grant needed, none possible). They exist
 *   so that components whose toolchain imports them can be instantiated:
 *   - `wasi:io/poll`, `wasi:io/error`, `wasi:io/streams`: streams exist only
 *     through granted stdio (and the discarded bodies of refused HTTP
 *     requests); pollables wait only on granted clocks.
 *   - `wasi:cli/stdin`: always at its end (every read reports `closed`).
 *   - `wasi:cli/terminal-*`: there is no terminal (every getter returns none).
 *   - `wasi:cli/exit`: ends the task with a `TaskError`.
 *   - `wasi:cli/environment`: no variables, no arguments, no working directory.
 *   - `wasi:filesystem/preopens`: no directories, so `wasi:filesystem/types`
 *     can never be reached with a descriptor; its calls all fail
 *     (`not-permitted`).
 *   - `wasi:http/types`, `wasi:http/outgoing-handler`: requests can be built,
 *     and every one is refused (`HTTP-request-denied`) without leaving the host.
 * - **Refused**: granting `wasi:filesystem`, `wasi:sockets`, `wasi:http` or
 *   `wasi:cli/environment` fails with `ERR_CAPABILITY`: tasks get no files,
 *   network or environment (pass data as arguments or objects instead). Any
 *   other name is refused as unknown, and so is a component importing an
 *   interface this file does not list (`unknownImports`): it could never run.
 *
 * Limits (what one instance may cost the host through WASI):
 *
 * - `MAX_RANDOM_BYTES` per `get-random-bytes` / `get-insecure-random-bytes`
 *   call; a larger request fails the task (`TaskError`).
 * - stdout and stderr: a line is passed on when its newline arrives, at
 *   `STDIO_LINE_CHARS` characters (the rest continues on the next line), or at `flush()`
 *   when the task ends. `STDIO_WRITE_BYTES` is what `check-write` permits per
 *   write. The task's log limits (`engine/limits.ts`) then apply to the lines.
 * - A pollable's `block` sleeps in slices of at most `SLEEP_SLICE_MS` and
 *   checks between them whether the task was cancelled; the task's
 *   `timeoutMs` bounds the whole wait.
 * - `poll` takes at most `MAX_POLL_LIST` pollables.
 * - One HTTP `fields` (headers) holds at most `HTTP_FIELDS_BYTES` of names
 *   and values; past it, changes fail with `forbidden`.
 */
import { ComponentError } from '../../errors.js';

/** The capability names a task or actor may be granted. */
export const GRANTABLE = ['wasi:clocks', 'wasi:random', 'wasi:cli/stdout', 'wasi:cli/stderr'] as const;

export type Capability = (typeof GRANTABLE)[number];

/** Bytes one call for random bytes may ask for. */
export const MAX_RANDOM_BYTES = 1 << 20;
/** Characters of one stdout or stderr line kept before it is passed on unfinished. */
export const STDIO_LINE_CHARS = 64 * 1024;
/** Bytes `check-write` permits per write on stdout and stderr. */
export const STDIO_WRITE_BYTES = 64 * 1024;
/** The longest single sleep inside a pollable's `block`, between cancellation checks. */
export const SLEEP_SLICE_MS = 1000;
/** The most pollables one `poll` call takes. */
export const MAX_POLL_LIST = 4096;
/** Bytes of names and values one HTTP `fields` may hold. */
export const HTTP_FIELDS_BYTES = 64 * 1024;

/** Capability names a grant may not name, and why. */
export const REFUSED: Readonly<Record<string, string>> = {
  'wasi:filesystem': 'tasks get no files: pass the data as arguments or objects (tsray.put) instead',
  'wasi:sockets': 'tasks get no network: fetch the data in the driver and pass it as arguments or objects',
  'wasi:http': 'tasks get no network: fetch the data in the driver and pass it as arguments or objects',
  'wasi:cli/environment': 'tasks get no environment: pass settings as arguments',
};

/** Interfaces (version stripped) that need a grant, and which. */
const GRANTED_BY: Readonly<Record<string, Capability>> = {
  'wasi:clocks/monotonic-clock': 'wasi:clocks',
  'wasi:clocks/wall-clock': 'wasi:clocks',
  'wasi:random/random': 'wasi:random',
  'wasi:random/insecure': 'wasi:random',
  'wasi:random/insecure-seed': 'wasi:random',
  'wasi:cli/stdout': 'wasi:cli/stdout',
  'wasi:cli/stderr': 'wasi:cli/stderr',
};

/** Interfaces (version stripped) served with no authority. */
export const INERT: ReadonlySet<string> = new Set([
  'wasi:io/poll', 'wasi:io/error', 'wasi:io/streams',
  'wasi:cli/stdin', 'wasi:cli/exit', 'wasi:cli/environment',
  'wasi:cli/terminal-input', 'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin', 'wasi:cli/terminal-stdout', 'wasi:cli/terminal-stderr',
  'wasi:filesystem/preopens', 'wasi:filesystem/types',
  'wasi:http/types', 'wasi:http/outgoing-handler',
]);

/** What serving one import takes. */
export type CapabilityOf =
  | { grant: Capability }
  | { inert: true }
  | { runtime: true }
  | { unknown: true };

/** `wasi:cli/stdout@0.2.12` -> `wasi:cli/stdout`. */
export function stripVersion(importName: string): string {
  const at = importName.indexOf('@');
  return at < 0 ? importName : importName.slice(0, at);
}

/**
 * What the import `importName` (an interface name, with or without its
 * version) needs: a grant, nothing (served inert, or tsray's own runtime), or
 * it is unknown and can never be served.
 */
export function capabilityOf(importName: string): CapabilityOf {
  const name = stripVersion(importName);
  const grant = GRANTED_BY[name];
  if (grant) return { grant };
  if (INERT.has(name)) return { inert: true };
  if (name.startsWith('tsray:runtime/')) return { runtime: true };
  return { unknown: true };
}

function refusal(name: string): string | undefined {
  for (const [prefix, why] of Object.entries(REFUSED)) {
    if (name === prefix || name.startsWith(`${prefix}/`) || name.startsWith(`${prefix}@`)) return why;
  }
  return undefined;
}

function isGrantable(name: string): name is Capability {
  return (GRANTABLE as readonly string[]).includes(name);
}

/**
 * Throws a `ComponentError` (`ERR_CAPABILITY`) listing every name in `names`
 * that cannot be granted: the refused ones with the reason, unknown ones with
 * the names that exist. Returns the names as capabilities otherwise.
 */
export function checkGrants(names: readonly unknown[]): Capability[] {
  const problems: string[] = [];
  for (const name of names) {
    if (typeof name !== 'string') { problems.push(`${String(name)} is not a capability name (a string)`); continue; }
    if (isGrantable(name)) continue;
    const why = refusal(name);
    if (why) { problems.push(`'${name}' is never granted: ${why}`); continue; }
    const needs = capabilityOf(name);
    if ('grant' in needs) problems.push(`'${name}' is not a capability name: grant '${needs.grant}' for it`);
    else if ('inert' in needs || 'runtime' in needs) problems.push(`'${name}' needs no grant: leave it out`);
    else problems.push(`'${name}' is not a capability tsray knows`);
  }
  if (problems.length > 0) {
    throw new ComponentError(
      `capabilities refused:\n  ${problems.join('\n  ')}\nthe capabilities a task may be granted: ${GRANTABLE.join(', ')}`,
      { code: 'ERR_CAPABILITY' },
    );
  }
  return names as Capability[];
}

/**
 * Each import of `importNames` whose capability is not in `granted`, as a
 * line such as `wasi:clocks/monotonic-clock@0.2.12 (grant 'wasi:clocks')`,
 * in the order given, each import once.
 */
export function missingGrants(importNames: readonly string[], granted: Iterable<string>): string[] {
  const have = new Set(granted);
  const lines: string[] = [];
  for (const name of new Set(importNames)) {
    const needs = capabilityOf(name);
    if ('grant' in needs && !have.has(needs.grant)) lines.push(`${name} (grant '${needs.grant}')`);
  }
  return lines;
}

/** The imports that are neither tsray's runtime nor WASI served here: a component with any can never run. */
export function unknownImports(importNames: readonly string[]): string[] {
  return [...new Set(importNames)].filter((name) => 'unknown' in capabilityOf(name));
}

/**
 * Refuses a component whose imports cannot all be served with `granted`:
 * throws a `ComponentError` (`ERR_CAPABILITY`) listing each import that needs
 * a grant not given and each unknown import, and the option that would grant
 * the missing ones. `what` names the component or function in the message.
 */
export function checkImports(what: string, importNames: readonly string[], granted: Iterable<string>): void {
  const missing = missingGrants(importNames, granted);
  const unknown = unknownImports(importNames);
  if (missing.length === 0 && unknown.length === 0) return;
  const parts: string[] = [];
  if (missing.length > 0) {
    const caps = [...new Set(missing.map((l) => /\(grant '([^']+)'\)$/.exec(l)?.[1] ?? ''))];
    parts.push(
      `it imports interfaces that need capabilities it was not granted:\n  ${missing.join('\n  ')}\n` +
      `grant them with .options({ capabilities: [${caps.map((c) => `'${c}'`).join(', ')}] })`,
    );
  }
  if (unknown.length > 0) {
    parts.push(`it imports interfaces tsray does not serve, so it can never run here:\n  ${unknown.join('\n  ')}`);
  }
  throw new ComponentError(`${what} cannot run: ${parts.join('\n')}`, { code: 'ERR_CAPABILITY' });
}
