/**
 * What one task (or actor) may cost a device and the device thread, beyond
 * its device-memory budget. The budget itself: a task holding a share of a
 * device (`numGpus: 0.25`) may hold that share of the device's memory, or
 * what it declares with `acceleratorMemory`; buffers count their size and
 * tensors their storage, from creation until destroyed, dropped, or the end
 * of the task. Passing any limit fails the call with a typed `accel-error`.
 */

/** Live objects (devices, buffers, shaders, pipelines, bind groups, encoders, tensors) in one scope. */
export const MAX_OBJECTS = 65_536;
/** WGSL source of one shader module, in UTF-8 bytes. */
export const MAX_SHADER_BYTES = 1 << 20;
/** Tensor rank. */
export const MAX_RANK = 8;
/** Elements of one tensor (what a Float32Array may hold in one piece). */
export const MAX_ELEMENTS = 2 ** 30;
/** Bind-group entries in one call, and bind groups in one dispatch. */
export const MAX_ENTRIES = 64;
/** Command buffers in one submit. */
export const MAX_SUBMIT = 1024;
/** Device memory assumed for a device whose backend cannot tell its size (software and CPU devices), unless the node declares it. */
export const DEFAULT_DEVICE_MEMORY = 2 ** 30;
