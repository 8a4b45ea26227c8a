// Builds components from AssemblyScript for tests, once per test process.
import './child-env.mjs';
import { build } from 'tsray';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'host', 'cli', 'main.js');

const built = new Map();

/** Builds guest/examples/<name>.ts for world <name>; returns the component bytes. */
export function example(name) {
  if (!built.has(name)) {
    built.set(name, build({ entry: join(ROOT, 'guest', 'examples', `${name}.ts`), wit: join(ROOT, 'wit'), world: name }).then((r) => r.component));
  }
  return built.get(name);
}

/**
 * guest/examples/<name>.ts as `npm run build` left it in build/ (every test
 * run builds first), else built here: for tests about what a component does,
 * not about building it.
 */
export function prebuilt(name) {
  const file = join(ROOT, 'build', `${name}.wasm`);
  return existsSync(file) ? Promise.resolve(new Uint8Array(readFileSync(file))) : example(name);
}

/** Builds the type round-trip fixture. */
export function kitchen() {
  if (!built.has('kitchen')) {
    const dir = join(ROOT, 'test', 'fixtures', 'kitchen');
    built.set('kitchen', build({ entry: join(dir, 'kitchen.ts'), wit: dir, world: 'kitchen' }).then((r) => r.component));
  }
  return built.get('kitchen');
}

/** A scratch directory holding the given files ({ 'a.wit': '...', 'g.ts': '...' }). */
export function scratch(files = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsray-test-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}
