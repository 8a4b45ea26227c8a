/**
 * Runs one job's program and writes how it ended to `exit.json` beside its
 * output: `node job-runner.js DIR COMMAND [ARGS...]`. The head starts jobs
 * through this, in a process group of their own, so a job outlives a head
 * killed with `kill -9` and the head started again still learns its exit
 * code (it is not that head's child). A stop's SIGTERM reaches the program
 * too (same group); the runner waits for it and records how it ended.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** What `exit.json` holds. */
export interface JobExit {
  code?: number;
  signal?: string;
  /** Why the program could not start. */
  error?: string;
}

const [dir, command, ...args] = process.argv.slice(2);
if (!dir || !command) {
  process.stderr.write('usage: job-runner DIR COMMAND [ARGS...]\n');
  process.exit(2);
}

function record(exit: JobExit): void {
  const tmp = join(dir!, 'exit.json.new');
  writeFileSync(tmp, JSON.stringify(exit), { mode: 0o600 });
  renameSync(tmp, join(dir!, 'exit.json'));
}

// The group's SIGTERM is for the program: the runner stays to record its end.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
const child = spawn(command, args, { stdio: 'inherit' });
child.on('error', (e) => { record({ error: e.message }); process.exit(127); });
child.on('exit', (code, signal) => {
  record({ ...(code !== null ? { code } : {}), ...(signal ? { signal } : {}) });
  process.exit(code ?? 1);
});
