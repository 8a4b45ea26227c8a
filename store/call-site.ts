/**
 * Where a reference was created, for `tsray memory`. Capturing a stack costs
 * a few microseconds, so (as Ray's RAY_record_ref_creation_sites) task calls
 * and small puts record it only when asked; puts of objects that go to the
 * arenas always do. The stack is formatted only when a report needs it.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join, relative, sep } from 'node:path';

/** Frames from inside tsray (compiled, or its sources when source maps are on) are skipped: the call site is the user's line. */
const PACKAGE = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const OWN = ['dist', 'host', 'store'].map((d) => join(PACKAGE, d) + sep);

export interface CallSite {
  /** `(put object)`, `(task call)`, `(deserialize object)`, `(actor call)`. */
  what: string;
  stack?: { stack?: string };
}

export function captureSite(what: string, record: boolean): CallSite {
  if (!record) return { what };
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, captureSite);
  return { what, stack: holder };
}

/** `(put object) | demo.mjs:17:12` */
export function formatSite(site: CallSite): string {
  const frames = site.stack?.stack?.split('\n').slice(1) ?? [];
  for (const f of frames) {
    const m = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?$/.exec(f.trim());
    if (!m) continue;
    let file = m[1]!;
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || OWN.some((d) => file.startsWith(d)) || file.includes(`${sep}node_modules${sep}`)) continue;
    const fn = /^at (\S+) \(/.exec(f.trim())?.[1];
    // Paths under the working directory print relative to it, as a user would type them.
    if (file.startsWith(process.cwd() + sep)) file = relative(process.cwd(), file);
    return `${site.what} | ${file}:${m[2]}${fn ? ` (${fn})` : ''}`;
  }
  return site.what;
}
