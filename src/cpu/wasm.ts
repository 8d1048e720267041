import { CpuError } from './errors';

/** Which build of assembly/kernels.ts runs (scripts/build-wasm.mjs). */
export type WasmVariant = 'relaxed-shared' | 'relaxed' | 'simd-shared' | 'simd';

const VARIANT_SOURCES: Record<WasmVariant, () => Promise<{ default: string }>> = {
  'relaxed-shared': () => import('./generated/relaxed-shared'),
  relaxed: () => import('./generated/relaxed'),
  'simd-shared': () => import('./generated/simd-shared'),
  simd: () => import('./generated/simd'),
};

async function wasmBytes(v: WasmVariant): Promise<Uint8Array<ArrayBuffer>> {
  const b64 = (await VARIANT_SOURCES[v]()).default;
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Compiles the best build of assembly/kernels.ts this JavaScript engine validates: relaxed SIMD
 * (fused multiply-add) where it can, plain SIMD otherwise; `shared` for threads.
 */
export async function compileKernels(
  shared: boolean,
): Promise<{ module: WebAssembly.Module; relaxed: boolean }> {
  let relaxed = true;
  let bytes = await wasmBytes(shared ? 'relaxed-shared' : 'relaxed');
  if (!WebAssembly.validate(bytes)) {
    relaxed = false;
    bytes = await wasmBytes(shared ? 'simd-shared' : 'simd');
    if (!WebAssembly.validate(bytes)) {
      throw new CpuError('webgpu-unavailable', 'this browser runs no WebAssembly SIMD');
    }
  }
  return { module: await WebAssembly.compile(bytes), relaxed };
}

export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  // Browsers hand out SharedArrayBuffer only to cross-origin isolated pages; Node always.
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}
