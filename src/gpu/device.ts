import { GpuError } from './errors';

/** What a tessel tab or test knows about the adapter its kernels run on. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True when the adapter is a software rasteriser (SwiftShader, lavapipe, WARP). */
  isFallback: boolean;
  features: string[];
  limits: {
    maxStorageBufferBindingSize: number; // bytes
    maxBufferSize: number; // bytes
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupStorageSize: number; // bytes
    maxComputeWorkgroupsPerDimension: number;
  };
}

/**
 * Whether the adapter runs on the CPU: the browser says so (isFallback), or it is one of the
 * software rasterisers browsers use without one (Chromium reports SwiftShader as a normal one).
 */
export function isSoftwareAdapter(a: AdapterSummary): boolean {
  const text = `${a.vendor} ${a.architecture} ${a.device} ${a.description}`;
  return a.isFallback || /swiftshader|llvmpipe|lavapipe|warp|software/i.test(text);
}

/**
 * The engine and adapter as one short string, e.g. "webgpu:google/swiftshader:software": what a
 * contributor tells owners, so redundant copies of a shard go to different adapters.
 */
export function adapterIdentity(a: AdapterSummary): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join('/') || 'unknown';
  return `webgpu:${name}${a.isFallback ? ':software' : ''}`.slice(0, 128);
}

export interface AcquiredDevice {
  device: GPUDevice;
  summary: AdapterSummary;
}

export interface AcquireOptions {
  /** A GPU object to use instead of navigator.gpu or the Node binding (tests, embedding). */
  gpu?: GPU;
}

const SOFTWARE = /swiftshader|lavapipe|llvmpipe|warp|basic render/i;

/**
 * Get a WebGPU device in a browser window, a Worker, or Node (npm `webgpu`, i.e. Dawn).
 * Throws GpuError('webgpu-unavailable' | 'no-adapter' | 'device-request-failed').
 * The caller owns the device and should `destroy()` it when done (Node will not exit otherwise).
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const gpu = options.gpu ?? browserGpu() ?? (await nodeGpu());
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new GpuError(
      'no-adapter',
      'WebGPU is present but offered no adapter. In a browser: enable hardware acceleration or ' +
        'WebGPU (chrome://gpu). In Node: point VK_ICD_FILENAMES at a Vulkan driver, e.g. ' +
        '/usr/lib/chromium/vk_swiftshader_icd.json (see scripts/gpu-env.mjs).',
    );
  }
  const l = adapter.limits;
  let device: GPUDevice;
  try {
    // Ask for the adapter's own maxima: the defaults (128 MiB bindings, 16 KiB workgroup memory)
    // would cap shard sizes and tile shapes below what the hardware offers.
    // No optional features: no kernel uses one (timestamps, subgroups).
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
        maxComputeWorkgroupSizeY: l.maxComputeWorkgroupSizeY,
      },
    });
  } catch (cause) {
    throw new GpuError('device-request-failed', `requestDevice failed: ${String(cause)}`, {
      cause,
    });
  }
  return { device, summary: summarize(adapter) };
}

function summarize(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const text = `${info?.vendor ?? ''} ${info?.architecture ?? ''} ${info?.device ?? ''} ${info?.description ?? ''}`;
  const l = adapter.limits;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallback:
      Boolean((info as { isFallbackAdapter?: boolean })?.isFallbackAdapter) || SOFTWARE.test(text),
    features: [...adapter.features].sort(),
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  };
}

function browserGpu(): GPU | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu;
}

// Dawn's instance must outlive every device made from it: if it is garbage-collected while a
// device still has work in flight, Dawn aborts the process. One per process, kept here.
let nodeInstance: Promise<GPU> | undefined;

/** Dawn's Node binding, loaded only in Node; the specifier is hidden from bundlers on purpose. */
function nodeGpu(): Promise<GPU> {
  nodeInstance ??= loadNodeGpu();
  nodeInstance.catch(() => {
    nodeInstance = undefined;
  });
  return nodeInstance;
}

async function loadNodeGpu(): Promise<GPU> {
  const isNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
  if (!isNode) {
    throw new GpuError(
      'webgpu-unavailable',
      'This browser has no WebGPU (navigator.gpu is missing). Use a recent Chrome, Edge or ' +
        'Safari over https or localhost.',
    );
  }
  const specifier = 'webgpu';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import(/* @vite-ignore */ specifier);
  } catch (cause) {
    throw new GpuError('webgpu-unavailable', 'The npm package `webgpu` is not installed.', {
      cause,
    });
  }
  // GPUBufferUsage, GPUMapMode, ... are globals in a browser; Dawn hands them to us instead.
  for (const [k, v] of Object.entries(mod.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  return mod.create([]);
}
