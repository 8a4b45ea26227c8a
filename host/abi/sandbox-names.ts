/** Names the host adds to a core module to run it as a resettable sandbox. */

/** Export names starting with this belong to the host; load() refuses a core module that uses them. */
export const RESERVED_EXPORT_PREFIX = '__tsray_';

/** Prefix of the exports that expose mutable globals (`__tsray_global_<n>`). */
export const GLOBAL_EXPORT_PREFIX = `${RESERVED_EXPORT_PREFIX}global_`;

/** Custom section marking a core module whose instances must not be reset, only replaced. */
export const FRESH_ONLY_SECTION = 'tsray:fresh-only';

/** Export of the virtual memory size (pages) of a core module rewritten by engine/virtual-memory-size.ts. */
export const VIRTUAL_MEMORY_SIZE_EXPORT = `${RESERVED_EXPORT_PREFIX}memory_size`;
