/// <reference types="@webgpu/types" />
/**
 * Loading Dawn (npm `webgpu`, dawn.node) and finding its adapters. `webgpu`
 * is an optional dependency: only the device thread loads it, on first use,
 * so a node without it (or without Vulkan) still runs everything else.
 *
 * With no GPU, Dawn's Vulkan backend can run on SwiftShader, the software
 * Vulkan driver Debian's `chromium` package installs. The Vulkan loader reads
 * VK_ICD_FILENAMES when Dawn initialises, from the real process environment:
 * a worker thread's `process.env` is a private copy, so the node's main
 * thread must set it before the device thread loads Dawn.
 */
import { existsSync, readdirSync } from 'node:fs';
import { AccelFailure } from '../backend.js';

/** What dawn.node exports. */
export interface DawnModule {
  create(options: string[]): GPU;
  globals: object;
}

let loading: Promise<DawnModule> | undefined;

/** Dawn, loaded once; a missing package or library becomes a `device-lost` failure saying what to install. */
export function loadDawn(): Promise<DawnModule> {
  loading ??= import('webgpu').then(
    (m) => m as unknown as DawnModule,
    (e: unknown) => {
      loading = undefined;
      const why = e instanceof Error ? e.message : String(e);
      throw new AccelFailure('device-lost',
        `WebGPU is unavailable: the optional npm package 'webgpu' (Dawn) did not load (${why}); ` +
        `install it with npm, and Vulkan (Debian: libvulkan1, plus chromium for the SwiftShader software driver)`);
    });
  return loading;
}

/** Where Debian and similar systems put SwiftShader's Vulkan ICD manifest. */
const SOFTWARE_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
  '/usr/share/vulkan/icd.d/vk_swiftshader_icd.json',
];

/** The SwiftShader Vulkan ICD manifest's path, if one is installed. */
export function findSoftwareIcd(): string | undefined {
  return SOFTWARE_ICDS.find((p) => existsSync(p));
}

/** Where the Vulkan loader looks for drivers when no variable names them. */
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/** The Vulkan driver manifests the loader would read (the variables' lists, else the standard folders). */
export function vulkanDriverFiles(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  const named = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
  if (named) return named.split(':').filter(Boolean);
  return ICD_DIRS.flatMap((d) => {
    try {
      return readdirSync(d).filter((f) => f.endsWith('.json')).sort().map((f) => `${d}/${f}`);
    } catch {
      return [];
    }
  });
}

/**
 * Whether any Vulkan driver could be found: without one, loading Dawn only
 * prints the loader's complaints, so `auto` goes straight to the CPU backend.
 */
export function hasVulkanDriver(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return vulkanDriverFiles(env).length > 0;
}

/** One adapter Dawn lists: its backend ('vulkan', 'metal', ...) and name. */
export interface AdapterEntry { backend: string; name: string }

/** Names that mark a software rasteriser, which should come after real GPUs. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/** Whether `name` is a software rasteriser's, not a GPU's. */
export function isSoftwareAdapter(name: string): boolean {
  return SOFTWARE.test(name);
}

/**
 * The adapters Dawn can open, real GPUs first. WebGPU's requestAdapter gives
 * one adapter only; dawn.node lists them all in the error it raises for an
 * `adapter=` name that matches none (its documented way to list them), so
 * this asks for a name no adapter has and reads the list.
 */
export async function listAdapters(): Promise<AdapterEntry[]> {
  const dawn = await loadDawn();
  let message = '';
  try {
    const gpu = dawn.create(['adapter=tsray-list-adapters-\u0001']);
    const a = await gpu.requestAdapter();
    if (a) return []; // no list to read: an adapter matched after all
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
  }
  const found: AdapterEntry[] = [];
  for (const m of message.matchAll(/^\s*\*\s*backend:\s*'([^']*)',\s*name:\s*'([^']*)'/gm)) {
    found.push({ backend: m[1]!, name: m[2]! });
  }
  return [...found.filter((a) => !SOFTWARE.test(a.name)), ...found.filter((a) => SOFTWARE.test(a.name))];
}

/** An adapter and the Dawn instance that owns it (which must stay referenced while it is used). */
export interface OpenedAdapter { gpu: GPU; adapter: GPUAdapter; entry?: AdapterEntry }

/**
 * `count` adapters for device indexes 0..count-1: index i gets the i-th
 * listed adapter, selected by name in a Dawn instance of its own. Dawn selects
 * by name, so of several adapters with the same name (two identical GPUs) it
 * opens the first each time; and when there are fewer adapters than indexes,
 * or none is listed, the remaining indexes get the default adapter. Indexes
 * that share an adapter are separate logical devices (each backend requests
 * its own GPUDevice) running on the same hardware.
 */
export async function requestAdapters(count: number): Promise<OpenedAdapter[]> {
  const dawn = await loadDawn();
  const listed = await listAdapters();
  const seen = new Set<string>();
  const out: OpenedAdapter[] = [];
  for (let i = 0; i < count; i++) {
    const entry = listed[i];
    const key = entry && `${entry.backend}/${entry.name}`;
    if (entry && key && !seen.has(key)) {
      seen.add(key);
      const gpu = dawn.create([`backend=${entry.backend}`, `adapter=${entry.name}`]);
      const adapter = await gpu.requestAdapter().catch(() => null);
      if (adapter) { out.push({ gpu, adapter, entry }); continue; }
    }
    // An adapter makes one device: each index that shares the default adapter asks for its own.
    out.push(await requestDefaultAdapter());
  }
  return out;
}

/** Dawn's default adapter (what `navigator.gpu.requestAdapter()` gives). */
export async function requestDefaultAdapter(): Promise<OpenedAdapter> {
  const dawn = await loadDawn();
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter().catch((e: unknown) => {
    throw new AccelFailure('device-lost', `Dawn found no adapter: ${e instanceof Error ? e.message : String(e)}`);
  });
  if (!adapter) {
    throw new AccelFailure('device-lost',
      'Dawn found no WebGPU adapter; without a GPU, install Debian\'s chromium and libvulkan1 and set ' +
      `VK_ICD_FILENAMES=${findSoftwareIcd() ?? '/usr/lib/chromium/vk_swiftshader_icd.json'} before the device thread starts`);
  }
  return { gpu, adapter };
}
