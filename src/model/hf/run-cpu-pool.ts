// sentence-transformers' Pooling and Normalize on the CPU engine's output, computed in float64
// on a view of engine memory (O(tokens × width), no kernel needed): split out of run-cpu.ts.

import type { PoolingConfig } from './types';

/** Pooling when a BERT checkpoint names none (no modules.json): sentence-transformers' default
 * for a plain transformer checkpoint, mean over the real tokens, not normalised. */
export const DEFAULT_POOLING: PoolingConfig = { mode: 'mean', normalize: false };

/** sentence-transformers' Pooling and Normalize (reference-bert.ts poolEmbeddings) over the
 * real tokens of each right-padded sequence of `x` (batch × L × H floats). */
export function pool(
  x: Float32Array,
  batch: number[][],
  L: number,
  H: number,
  p: PoolingConfig,
): Float32Array[] {
  return batch.map((seq, b) => {
    const n = seq.length;
    const row = (t: number) => x.subarray((b * L + t) * H, (b * L + t + 1) * H);
    const v = new Float64Array(H);
    if (p.mode === 'cls') v.set(row(0));
    else if (p.mode === 'lasttoken') v.set(row(n - 1));
    else if (p.mode === 'mean') {
      for (let t = 0; t < n; t++) {
        const y = row(t);
        for (let d = 0; d < H; d++) v[d] = v[d]! + y[d]!;
      }
      for (let d = 0; d < H; d++) v[d] = v[d]! / n;
    } else {
      v.set(row(0));
      for (let t = 1; t < n; t++) {
        const y = row(t);
        for (let d = 0; d < H; d++) v[d] = Math.max(v[d]!, y[d]!);
      }
    }
    if (p.normalize) {
      const norm = Math.max(Math.sqrt(v.reduce((a, y) => a + y * y, 0)), 1e-12); // F.normalize
      for (let d = 0; d < H; d++) v[d] = v[d]! / norm;
    }
    return Float32Array.from(v);
  });
}
