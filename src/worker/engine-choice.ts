import { adapterIdentity, isSoftwareAdapter } from '../gpu/device';
import type { ComputeApi, ComputeInfo, EngineKind } from './api';

/** The engine a contributor lends and what it measured. */
export interface EngineChoice {
  engine: EngineKind;
  /** GFLOP/s of the chosen engine (square matmul at MEASURE_N). */
  gflops: number;
  /** Every engine measured, GFLOP/s (an engine that could not run is absent). */
  measured: Partial<Record<EngineKind, number>>;
  info: ComputeInfo;
}

/** Matmul size engines are compared at: big enough that a GPU's launch cost does not decide,
 * small enough to take milliseconds on a CPU (512³ ≈ 7 ms at 40 GFLOP/s). */
export const MEASURE_N = 512;

/**
 * The key a choice is remembered under for this device: its WebGPU adapter, or the absence of
 * one. The choice itself depends only on what this device measured.
 */
export function deviceKey(info: ComputeInfo): string {
  return info.adapter ? adapterIdentity(info.adapter) : 'webgpu:none';
}

/** Whether the WebGPU adapter is worth measuring at all: a real GPU, not a CPU behind WebGPU. */
export function hardwareGpu(info: ComputeInfo): boolean {
  return info.adapter !== undefined && !isSoftwareAdapter(info.adapter);
}

/**
 * Measures the engines that can win here and switches to the faster: a software adapter
 * (SwiftShader, WARP, llvmpipe) or no WebGPU means the CPU engine without measuring the GPU
 * (its "GPU" is the same CPU, 10–20× slower through it); a hardware GPU is tuned and measured
 * against the CPU engine. Computation: call it only after the user said so.
 */
export async function chooseEngine(
  api: Pick<ComputeApi, 'info' | 'tune' | 'benchmark' | 'setEngine'>,
): Promise<EngineChoice> {
  const before = await api.info();
  const measured: Partial<Record<EngineKind, number>> = {};
  try {
    const [row] = await api.benchmark([MEASURE_N], 1, 'cpu');
    if (row) measured.cpu = row.gflops;
  } catch {
    // No WebAssembly SIMD here (Safari before 16.4): the GPU it is.
  }
  if (hardwareGpu(before) || (measured.cpu === undefined && before.adapter)) {
    await api.tune();
    const [row] = await api.benchmark([MEASURE_N], 1, 'webgpu');
    if (row) measured.webgpu = row.gflops;
  }
  const engine: EngineKind | undefined =
    measured.webgpu !== undefined && (measured.cpu === undefined || measured.webgpu > measured.cpu)
      ? 'webgpu'
      : measured.cpu !== undefined
        ? 'cpu'
        : undefined;
  if (!engine) {
    throw new Error(
      before.gpuError
        ? `no engine can run here: ${before.gpuError.message}, and no WebAssembly SIMD`
        : 'no engine can run here',
    );
  }
  const info = await api.setEngine(engine);
  return { engine, gflops: measured[engine]!, measured, info };
}
