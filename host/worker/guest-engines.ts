/**
 * How a worker turns a module message into instances: lean instances of the
 * sandboxed core module, or jco instances of the component's glue (imported
 * once, asynchronously) with a WASI host per instance, granted per task.
 * Also what ties a jco guest's WASI output to the running item: its stdout
 * and stderr lines go to the item's log, and the first stderr lines explain a
 * trap that follows them (language runtimes print the error, then abort).
 */
import { ComponentInstance, ComponentModule } from '../component/module.js';
import type { EngineInstance, HandleFactory } from '../engine/types.js';
import { LeanInstance } from '../engine/lean.js';
import { JcoInstance, importGlue, type JcoGlue } from '../engine/jco.js';
import { wasiHost, type WasiIo } from '../engine/wasi/index.js';
import { wasiIoFrom, type HostEnv } from '../engine/host-imports.js';
import { TaskError } from '../errors.js';
import type { ModuleMsg } from './protocol.js';

/** A module a worker holds. */
export interface Loaded {
  module: ComponentModule;
  /** A new engine instance of this module, granted `caps` (WASI capabilities). */
  make: (makeHandle: HandleFactory, caps: readonly string[]) => EngineInstance;
  /** Reset instances ready for another task, by the capabilities they were granted. */
  pools: Map<string, ComponentInstance[]>;
}

/** Most stderr lines of one item kept to explain a trap. */
const STDERR_TAIL_LINES = 16;

export class GuestEngines {
  /** jco glue being imported (an ES module import is async): the worker waits for these before running work. */
  private loading: Promise<void>[] = [];
  private stderrTail: string[] = [];
  private readonly wasiIo: WasiIo;

  constructor(private readonly env: HostEnv) {
    const io = wasiIoFrom(env);
    this.wasiIo = {
      ...io,
      write: (stream, line) => {
        if (stream === 'stderr' && this.stderrTail.length < STDERR_TAIL_LINES) this.stderrTail.push(line);
        io.write(stream, line);
      },
    };
  }

  /** Whether glue imports are in flight (`settle()` waits for them). */
  get pending(): boolean {
    return this.loading.length > 0;
  }

  async settle(): Promise<void> {
    const wait = this.loading;
    this.loading = [];
    await Promise.all(wait);
  }

  /** A new item starts: what the last one wrote to stderr explains nothing about this one. */
  itemStarted(): void {
    this.stderrTail = [];
  }

  load(m: ModuleMsg): Loaded {
    const { world, env } = { world: m.world, env: this.env };
    if (m.engine === 'lean') {
      const opts: { resettable: true; maxBytes?: number } = m.maxBytes === undefined ? { resettable: true } : { resettable: true, maxBytes: m.maxBytes };
      const module = new ComponentModule(m.key, world, 'lean', async (h, e) => new LeanInstance(m.module, world, e, h, opts));
      return { module, make: (h) => new LeanInstance(m.module, world, env, h, opts), pools: new Map() };
    }
    const glue: JcoGlue = { entry: m.entry, cores: new Map(), compiled: new Map(m.cores), restorable: m.restorable };
    let failed: unknown;
    this.loading.push(importGlue(glue).then(() => undefined, (e: unknown) => { failed = e; }));
    const module = new ComponentModule(m.key, world, 'jco', async (h, e) => JcoInstance.create(glue, world, e, h));
    const opts = { resettable: m.restorable, explain: () => this.explainTrap(), ...(m.maxBytes === undefined ? {} : { maxBytes: m.maxBytes }) };
    return {
      module,
      make: (h, caps) => {
        if (failed) throw new TaskError('instantiate', `the component's jco glue did not load: ${(failed as Error).message ?? String(failed)}`);
        const wasi = wasiHost(new Set(caps), this.wasiIo);
        // A call's unfinished last stdio line is passed on when the call ends.
        return JcoInstance.create(glue, world, env, h, wasi.imports, { ...opts, afterCall: () => wasi.flush() });
      },
      pools: new Map(),
    };
  }

  /** A runtime's error report: its first line, and the first frame after a `Stack:` line. */
  private explainTrap(): string | undefined {
    const lines = this.stderrTail.map((l) => l.trim()).filter((l) => l && !/^Redirecting call to abort/.test(l));
    if (!lines.length) return undefined;
    const at = lines.indexOf('Stack:');
    const frame = at >= 0 ? lines[at + 1] : undefined;
    return frame && at > 0 ? `${lines[0]} (at ${frame})` : lines[0];
  }
}
