// WebGPU tests run on whatever Vulkan device Dawn finds; on machines without a
// GPU (CI) that is SwiftShader, from Debian's chromium package. The Vulkan
// loader reads VK_ICD_FILENAMES from the real environment when Dawn starts:
// assigning process.env on the main thread calls setenv, so importing this
// module before anything loads Dawn is enough.
import { existsSync } from 'node:fs';

const ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
  '/usr/lib64/chromium-browser/vk_swiftshader_icd.json',
  '/usr/share/vulkan/icd.d/vk_swiftshader_icd.json',
];

/** Why WebGPU cannot run here, or undefined when it can be tried. */
export let gpuProblem;

if (!process.env.VK_ICD_FILENAMES) {
  const icd = ICDS.find((p) => existsSync(p));
  if (icd) process.env.VK_ICD_FILENAMES = icd;
  else if (!existsSync('/dev/dri')) {
    gpuProblem = 'no GPU and no SwiftShader Vulkan driver: install Debian\'s chromium and libvulkan1 ' +
      '(apt-get install chromium libvulkan1), as CI does';
  }
}
