/// <reference types="@webgpu/types" />
/**
 * Loading Dawn (npm `webgpu`, an optional dependency) and finding a software
 * GPU. Nothing here loads Dawn until `openAdapter` runs, so the main thread
 * can call `findSoftwareIcd` without paying for it.
 */
import { existsSync, readdirSync } from 'node:fs';

/** Where Debian's chromium (and similar packages) install SwiftShader's Vulkan driver. */
const ICD_PATHS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/opt/google/chrome/vk_swiftshader_icd.json',
];

/** The SwiftShader Vulkan ICD manifest on this machine, if one is installed. */
export function findSoftwareIcd(): string | undefined {
  return ICD_PATHS.find((p) => existsSync(p));
}

/** Where the Vulkan loader looks for drivers when no variable names them. */
const ICD_DIRS = ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

/**
 * Whether any Vulkan driver could be found: without one, loading Dawn only
 * prints the loader's complaints, so `auto` goes straight to the CPU backend.
 */
export function hasVulkanDriver(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return true;
  return ICD_DIRS.some((d) => {
    try {
      return readdirSync(d).some((f) => f.endsWith('.json'));
    } catch {
      return false;
    }
  });
}

/** Dawn's `navigator.gpu`, kept for the life of the thread (dropping it lets Dawn shut down). */
let gpu: GPU | undefined;

/** The default adapter, or an error that says what is missing. */
export async function openAdapter(): Promise<GPUAdapter> {
  if (!gpu) {
    let mod: { create(flags: string[]): GPU; globals: Record<string, unknown> };
    try {
      mod = await import('webgpu' as string) as typeof mod;
    } catch (e) {
      throw new Error(`the 'webgpu' package (Dawn) is not installed or does not load here (${(e as Error).message}); install it, or use accelBackend: 'cpu'`);
    }
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([]);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(`Dawn found no GPU adapter (no Vulkan driver${process.env.VK_ICD_FILENAMES ? ` at VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}` : ''}); on a machine without a GPU install Debian's chromium and libvulkan1 for SwiftShader, or use accelBackend: 'cpu'`);
  }
  return adapter;
}
