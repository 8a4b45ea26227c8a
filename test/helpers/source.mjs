// Unit tests import one part's TypeScript sources directly (tsx compiles them
// as they load), so a change to a part is tested where it lives, without a build.
import { register } from 'tsx/esm/api';

register();

/** The module at `path` (relative to the repository root, e.g. 'host/core/placement.ts'). */
export function source(path) {
  return import(new URL(`../../${path}`, import.meta.url).href);
}
