/**
 * A snapshot of the state of a set of core instances (one component's, as
 * jco's glue instantiates them): every memory they export and every mutable
 * global (exported by `sandboxCore`). Restoring it returns the instances to
 * the moment the snapshot was taken, so a pooled instance serves the next
 * task as a fresh one would, at the cost of a memory copy instead of a new
 * instantiation. Only taken for modules `snapshotRestores` approves.
 */
import { GLOBAL_EXPORT_PREFIX } from '../abi/sandbox-names.js';

export class InstanceSnapshot {
  private constructor(
    private readonly memories: { memory: WebAssembly.Memory; bytes: Uint8Array }[],
    private readonly globals: WebAssembly.Global[],
    private readonly values: unknown[],
  ) {}

  /** Snapshots `instances` now. */
  static take(instances: readonly WebAssembly.Instance[]): InstanceSnapshot {
    const memories = new Set<WebAssembly.Memory>();
    const globals = new Set<WebAssembly.Global>();
    for (const inst of instances) {
      for (const [name, v] of Object.entries(inst.exports)) {
        if (v instanceof WebAssembly.Memory) memories.add(v);
        else if (v instanceof WebAssembly.Global && name.startsWith(GLOBAL_EXPORT_PREFIX)) globals.add(v);
      }
    }
    const g = [...globals];
    return new InstanceSnapshot([...memories].map((memory) => ({ memory, bytes: new Uint8Array(memory.buffer).slice() })), g, g.map((x) => x.value));
  }

  /** Bytes the snapshot holds. */
  get bytes(): number {
    return this.memories.reduce((n, m) => n + m.bytes.byteLength, 0);
  }

  /** Bytes the live memories hold. */
  get liveBytes(): number {
    return this.memories.reduce((n, m) => n + m.memory.buffer.byteLength, 0);
  }

  /** Restores the state; false (and nothing restored) when a memory grew, which cannot be undone. */
  restore(): boolean {
    if (this.memories.some((m) => m.memory.buffer.byteLength !== m.bytes.byteLength)) return false;
    for (const m of this.memories) new Uint8Array(m.memory.buffer).set(m.bytes);
    for (let i = 0; i < this.globals.length; i++) this.globals[i]!.value = this.values[i];
    return true;
  }
}
