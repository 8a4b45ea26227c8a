/** Export names the host adds to a core module to run it as a resettable sandbox. */

/** Prefix of the exports that expose mutable globals (`__tsray_global_<n>`). */
export const GLOBAL_EXPORT_PREFIX = '__tsray_global_';
