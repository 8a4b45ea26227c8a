// The JavaScript guest (test/fixtures/js-guest) built with componentize-js, once per content:
// the build takes 15-40 s, so it is kept in build/ keyed by its inputs and shared by every test file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './components.mjs';
import { buildGuest } from '../fixtures/js-guest/build.mjs';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'js-guest');

/** Path of the built guest (`disable`: componentize-js features left out). */
export async function jsGuest(disable = []) {
  const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', '@bytecodealliance', 'componentize-js', 'package.json'), 'utf8')).version;
  const key = createHash('sha256').update([readFileSync(join(FIXTURE, 'guest.js')), readFileSync(join(FIXTURE, 'guest.wit')), version, disable.join(',')].join('\0')).digest('hex').slice(0, 16);
  const out = join(ROOT, 'build', `js-guest-${key}.wasm`);
  const lock = `${out}.lock`;
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  for (;;) {
    if (existsSync(out)) return out;
    try {
      mkdirSync(lock);
      break;
    } catch {
      await sleep(500); // another test file is building it
    }
  }
  try {
    if (!existsSync(out)) {
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, await buildGuest(disable));
      renameSync(tmp, out);
    }
    return out;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
