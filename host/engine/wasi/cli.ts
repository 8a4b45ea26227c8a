/**
 * `wasi:cli`: stdout and stderr (capabilities `wasi:cli/stdout` and
 * `wasi:cli/stderr`) write the task's log a line at a time; stdin is always at
 * its end; there is no terminal and no environment; `exit` ends the task with
 * a `TaskError`.
 */
import type { Capability } from './capabilities.js';
import { trap, type WasiContext } from './context.js';
import { LineSink } from './line-sink.js';
import { InputStream, OutputStream } from './streams.js';

/** `wasi:cli/terminal-input.terminal-input`: never handed out (there is no terminal). */
export class TerminalInput {}
/** `wasi:cli/terminal-output.terminal-output`: never handed out (there is no terminal). */
export class TerminalOutput {}

/** The `wasi:cli` interfaces, and `flush` to pass on the lines stdout and stderr left unfinished. */
export function cliImports(ctx: WasiContext): { imports: Record<string, Record<string, unknown>>; flush(): void } {
  const sinks = {
    stdout: new LineSink((line) => ctx.io.write('stdout', line)),
    stderr: new LineSink((line) => ctx.io.write('stderr', line)),
  };
  const streams = new Map<'stdout' | 'stderr', OutputStream>();
  const output = (name: 'stdout' | 'stderr'): OutputStream => {
    // Getting the stream confers nothing (runtimes get all three at start-up); writing to it needs the grant.
    ctx.io.checkpoint();
    const capability: Capability = `wasi:cli/${name}`;
    let stream = streams.get(name);
    if (!stream) {
      const sink = sinks[name];
      stream = new OutputStream(ctx, (bytes) => sink.write(bytes), capability);
      streams.set(name, stream);
    }
    return stream;
  };
  let stdin: InputStream | undefined;
  const none = () => { ctx.io.checkpoint(); return undefined; };
  const exit = (why: string): never => trap('wasi:cli/exit.exit', `the guest called exit ${why}`);
  return {
    imports: {
      'wasi:cli/stdout': { getStdout: () => output('stdout') },
      'wasi:cli/stderr': { getStderr: () => output('stderr') },
      'wasi:cli/stdin': { getStdin: () => { ctx.io.checkpoint(); return (stdin ??= new InputStream(ctx)); } },
      'wasi:cli/terminal-input': { TerminalInput },
      'wasi:cli/terminal-output': { TerminalOutput },
      'wasi:cli/terminal-stdin': { getTerminalStdin: none },
      'wasi:cli/terminal-stdout': { getTerminalStdout: none },
      'wasi:cli/terminal-stderr': { getTerminalStderr: none },
      'wasi:cli/environment': {
        getEnvironment: (): Array<[string, string]> => { ctx.io.checkpoint(); return []; },
        getArguments: (): string[] => { ctx.io.checkpoint(); return []; },
        initialCwd: none,
      },
      'wasi:cli/exit': {
        exit: (status: { tag: 'ok' | 'err' }) => exit(status?.tag === 'ok' ? 'with success before returning' : 'with a failure status'),
        exitWithCode: (code: number) => exit(`with status code ${code}`),
      },
    },
    flush: () => { sinks.stdout.flush(); sinks.stderr.flush(); },
  };
}
