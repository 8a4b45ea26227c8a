/** `build()` as the package exports it: the AssemblyScript compiler loads on first use, so importing tsray stays fast. */
import type { BuildOptions, BuildResult } from '../toolchain/build.js';

export type { BuildOptions, BuildResult };

/** Compiles an AssemblyScript file into a component for a WIT world (see `host/toolchain/build.ts`). */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const toolchain = await import('../toolchain/build.js');
  return toolchain.build(opts);
}
