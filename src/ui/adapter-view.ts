import { cpuIdentity } from '../cpu/identity';
import { isSoftwareAdapter } from '../gpu/device';
import type { ComputeInfo, EngineKind } from '../worker/api';
import { deviceKey, hardwareGpu } from '../worker/engine-choice';
import type { ContributorPrefs } from './prefs';

/** The engine and adapter this tab would lend, in words a volunteer can act on. */
export type AdapterView =
  | {
      available: true;
      /** The engine shards run on: chosen by measurement (or, before the first, predicted). */
      engine: EngineKind;
      /** Whether `engine` was chosen by measuring on this device (now or on an earlier visit). */
      chosen: boolean;
      /** The engine in words: "CPU · WebAssembly SIMD with FMA · 2 threads" or "GPU · WebGPU". */
      engineName: string;
      /** The WebGPU adapter's name, or why there is none. */
      name: string;
      /** The WebGPU adapter runs on the CPU (SwiftShader and the like), not a GPU. */
      software: boolean;
      /** No WebGPU adapter at all (the CPU engine computes). */
      noWebGpu?: string;
      identity: string;
      /** The chosen engine's speed, measured here (now or on an earlier visit), GFLOP/s. */
      gflops?: number;
      tuned: boolean;
      maxBindingBytes: number;
    }
  | { available: false; reason: string; advice: string };

/**
 * What this tab would lend, from the Worker's `info`, the volunteer's remembered choices and the
 * engine the page asks for (`forced`): before the first measurement, what the choice will be
 * unless a hardware GPU wins. Measures nothing.
 */
export function adapterView(
  info: ComputeInfo,
  prefs: Pick<ContributorPrefs, 'engines' | 'speeds'>,
  forced: EngineKind | undefined,
): AdapterView {
  const a = info.adapter;
  const remembered = forced ?? prefs.engines[deviceKey(info)];
  // Before the first measurement: what the choice will be unless a hardware GPU wins.
  const engine =
    info.cpu || remembered ? (remembered ?? info.engine) : hardwareGpu(info) ? 'webgpu' : 'cpu';
  const identity =
    engine === 'cpu'
      ? info.cpu
        ? cpuIdentity(info.cpu)
        : (Object.keys(prefs.speeds).find((k) => k.startsWith('cpu:')) ?? 'cpu:wasm')
      : info.identity;
  const gflops = prefs.speeds[identity];
  return {
    available: true,
    engine,
    chosen: Boolean(remembered),
    engineName:
      engine === 'webgpu'
        ? 'GPU · WebGPU'
        : `CPU · WebAssembly SIMD${info.cpu ? `${info.cpu.simd === 'relaxed-simd' ? ' with FMA' : ''} · ${info.cpu.threads} thread${info.cpu.threads > 1 ? 's' : ''}` : ''}`,
    name: a ? [a.vendor, a.architecture].filter(Boolean).join(' · ') || 'unknown adapter' : 'none',
    software: a ? isSoftwareAdapter(a) : false,
    ...(a ? {} : { noWebGpu: noWebGpuReason(info.gpuError?.message) }),
    identity,
    ...(gflops ? { gflops } : {}),
    tuned: info.tuned,
    maxBindingBytes: info.maxBindingBytes,
  };
}

/** Why there is no WebGPU adapter here, in a sentence. */
function noWebGpuReason(why: string | undefined): string {
  const hasApi = typeof navigator !== 'undefined' && 'gpu' in navigator;
  return hasApi
    ? `This browser has WebGPU but gave no usable adapter (${why ?? 'no reason given'}).`
    : 'This browser has no WebGPU.';
}

/** Why this tab cannot lend the engine it was told to (WebGPU) and what the volunteer can do. */
export function noWebGpu(why: string | undefined): AdapterView {
  const hasApi = typeof navigator !== 'undefined' && 'gpu' in navigator;
  return {
    available: false,
    reason: noWebGpuReason(why),
    advice: hasApi
      ? 'Update your graphics driver, or in Chrome open chrome://flags and enable "Unsafe WebGPU Support" on Linux; then reload.'
      : 'Use a recent Chrome or Edge (version 113 or later), or Safari 26; in Firefox, version 141 or later on Windows.',
  };
}
