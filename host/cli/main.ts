#!/usr/bin/env node
/** The `tsray` command line. Each command lives in its own file and registers itself here. */
import { Command } from 'commander';
import { registerBuild } from './build.js';
import { registerInspect } from './inspect.js';
import { registerMemory } from './memory.js';
import { registerStart } from './start.js';
import { registerStatus } from './status.js';
import { registerState } from './state.js';
import { registerLogs } from './logs.js';
import { registerJob } from './job.js';
import { registerTypes } from './types.js';
import { TsrayError } from '../errors.js';

const program = new Command();
program
  .name('tsray')
  .description('Ray Core for the WebAssembly component model')
  .version('0.1.0')
  .showHelpAfterError();
registerBuild(program);
registerInspect(program);
registerMemory(program);
registerStart(program);
registerStatus(program);
registerState(program);
registerLogs(program);
registerJob(program);
registerTypes(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof TsrayError) {
    process.stderr.write(`error [${e.code}]: ${e.message}\n`);
  } else {
    process.stderr.write(`error: ${(e as Error).stack ?? String(e)}\n`);
  }
  process.exitCode = 1;
});
