/** What the CPU engine runs on, for people and for the engine's identity. */
export interface CpuSummary {
  /** `relaxed-simd`: fused multiply-add (f32x4.relaxed_madd); `simd128`: multiply, then add. */
  simd: 'relaxed-simd' | 'simd128';
  threads: number;
}

/** Largest input or output the CPU engine takes in one call, as a GPU's binding limit. */
export const CPU_MAX_BINDING_BYTES = 256 * 1024 * 1024;

/** The CPU engine's identity for redundancy: FMA or not changes every rounding; threads do not
 * (each element is summed by one thread in the same order). */
export function cpuIdentity(s: CpuSummary): string {
  return `cpu:wasm-${s.simd === 'relaxed-simd' ? 'fma' : 'simd128'}`;
}
