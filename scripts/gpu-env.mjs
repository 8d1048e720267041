// Environment that lets Dawn's node binding (npm `webgpu`) find a Vulkan driver on a machine
// without a GPU: Debian's chromium ships SwiftShader and a Vulkan loader in /usr/lib/chromium.
import { existsSync } from 'node:fs';

const CHROMIUM_LIB = '/usr/lib/chromium';

/**
 * Variables to add to `env` so a child Node process gets a WebGPU adapter. A real Vulkan driver
 * already configured by the user (VK_ICD_FILENAMES set) is left alone.
 * @param {NodeJS.ProcessEnv} env
 * @returns {Record<string, string>}
 */
export function nodeGpuEnv(env) {
  const out = {};
  if (!env.XDG_RUNTIME_DIR) out.XDG_RUNTIME_DIR = '/tmp';
  if (env.VK_ICD_FILENAMES || !existsSync(`${CHROMIUM_LIB}/vk_swiftshader_icd.json`)) return out;
  out.VK_ICD_FILENAMES = `${CHROMIUM_LIB}/vk_swiftshader_icd.json`;
  // Only chromium's copy of libvulkan.so.1 when the system has none (libvulkan1 not installed).
  if (
    !existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') &&
    !existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1')
  ) {
    out.LD_LIBRARY_PATH = [CHROMIUM_LIB, env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return out;
}
