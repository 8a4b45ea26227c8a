/** Reads WIT from disk or text and resolves one world. */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ComponentError } from '../errors.js';
import { parseWitFile, type FileSyntax } from './parser.js';
import { WitResolver } from './resolve.js';
import type { ResolvedWorld } from './types.js';

export interface WitSources {
  files: { path: string; text: string }[];
}

const WIT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'wit');

/** tsray's own WIT (`tsray:runtime`), always available to user worlds. */
export const RUNTIME_WIT = join(WIT_DIR, 'runtime.wit');

/** The host's WIT packages (`tsray:runtime`, `tsray:accel`), always available to user worlds. */
export const TSRAY_WIT = [RUNTIME_WIT, join(WIT_DIR, 'accel.wit')];

/**
 * Every `.wit` file under `paths` (directories are searched recursively),
 * plus tsray's own WIT (TSRAY_WIT); a file reached twice is read once.
 */
export function readWitSources(paths: string | string[]): WitSources {
  const files: WitSources['files'] = [];
  const seen = new Set<string>();
  const walk = (p: string): void => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (p.endsWith('.wit') && !seen.has(realpathSync(p))) {
      seen.add(realpathSync(p));
      files.push({ path: p, text: readFileSync(p, 'utf8') });
    }
  };
  for (const path of Array.isArray(paths) ? paths : [paths]) {
    const before = files.length;
    try {
      walk(path);
    } catch (e) {
      throw new ComponentError(`cannot read WIT at ${path}: ${(e as Error).message}`, { cause: e });
    }
    if (files.length === before && !(existsSync(path) && seen.has(realpathSync(path)))) throw new ComponentError(`no .wit files found at ${path}`);
  }
  for (const own of TSRAY_WIT) walk(own);
  return { files };
}

export interface LoadedWorld {
  world: ResolvedWorld;
  /**
   * One self-contained WIT text holding the world's package at top level and
   * every other package nested, ready for `componentEmbed({ witSource })`.
   */
  source: string;
}

/** Parses and resolves `world` (plain or `ns:pkg/name`) from WIT sources. */
export function loadWorld(sources: WitSources, world: string): LoadedWorld {
  const parsed: FileSyntax[] = sources.files.map((f) => parseWitFile(f.path, f.text));
  const resolver = new WitResolver(parsed);
  let resolved: ResolvedWorld;
  try {
    resolved = resolver.resolveWorld(world);
  } catch (e) {
    if (e instanceof ComponentError) throw e;
    throw new ComponentError((e as Error).message, { cause: e });
  }
  return { world: resolved, source: embedSource(parsed, resolved.packageName) };
}

/** Rewrites `package x;` headers so all files become one text with `main` at top level. */
function embedSource(files: FileSyntax[], main: string): string {
  const top: string[] = [`package ${main};`];
  const nested = new Map<string, string[]>();
  for (const f of files) {
    const text = f.src.text;
    if (!f.pkg || !f.header) {
      if (f.pkg) throw new ComponentError(`${f.src.file}: a WIT file needs a 'package ns:name;' header`);
      top.push(text); // only nested packages inside
      continue;
    }
    const body = text.slice(0, f.header.start) + ' '.repeat(f.header.end - f.header.start) + text.slice(f.header.end);
    if (f.pkg.name === main) top.push(body);
    else {
      const list = nested.get(f.pkg.name) ?? [];
      list.push(body);
      nested.set(f.pkg.name, list);
    }
  }
  for (const [name, bodies] of nested) top.push(`package ${name} {\n${bodies.join('\n')}\n}`);
  return top.join('\n');
}

/** Resolves a world from WIT text held in memory (a component's embedded metadata). */
export function worldFromText(text: string, world: string, file = '<component metadata>'): ResolvedWorld {
  return loadWorld({ files: [{ path: file, text }] }, world).world;
}
