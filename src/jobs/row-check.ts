import { U_F64 } from '../gpu/projection';
import { gammaF32, MIN_NORMAL_F32 } from '../reference/matmul';
import {
  type Block,
  DEFAULT_ELEMENT_LAMBDA,
  DEFAULT_KAPPA,
  type FreivaldsOptions,
  type MatmulProblem,
} from './freivalds';

/**
 * The honest envelope of one recomputed row: recomputes row `i` of the block exactly (float64)
 * and, as float32 would, summed forwards and backwards; true when every claimed element is
 * within its rigorous bound γ_K·Σₚ|aᵢₚbₚⱼ| and within max(elementLambda·σᵢⱼ, kappa × the owner's
 * float32 error), σᵢⱼ the conservative √((2u²/3)·K·(Σₚaᵢₚ²bₚⱼ² + cᵢⱼ²/3)). Structured inputs,
 * whose roundings correlate and beat the model, are judged by what float32 does on them; a cheat
 * by the exact answer. O(k·cols).
 */
export function rowWithinEnvelope(
  { a, b, k, n }: MatmulProblem,
  { row0, col0, cols }: Block,
  claimed: ArrayLike<number>,
  i: number,
  options: FreivaldsOptions,
): boolean {
  const exact = new Float64Array(cols);
  const abs = new Float64Array(cols);
  const sq = new Float64Array(cols);
  const forward = new Float64Array(cols);
  const backward = new Float64Array(cols);
  const aBase = (row0 + i) * k;
  for (let p = 0; p < k; p++) {
    const x = a[aBase + p]!;
    const bBase = p * n + col0;
    for (let j = 0; j < cols; j++) {
      const prod = x * b[bBase + j]!; // exact: a product of two float32s fits a float64
      exact[j]! += prod;
      abs[j]! += Math.abs(prod);
      sq[j]! += prod * prod;
      forward[j] = Math.fround(forward[j]! + prod); // a fused multiply-add in float32
    }
  }
  for (let p = k - 1; p >= 0; p--) {
    const x = a[aBase + p]!;
    const bBase = p * n + col0;
    for (let j = 0; j < cols; j++) backward[j] = Math.fround(backward[j]! + x * b[bBase + j]!);
  }
  const rig = (options.c ?? 1) * gammaF32(k) + (k + 2) * U_F64;
  const lambda = options.elementLambda ?? DEFAULT_ELEMENT_LAMBDA;
  const kappa = options.kappa ?? DEFAULT_KAPPA;
  const sigmaScale = 2 ** -24 * Math.sqrt((2 * k) / 3);
  const floor = k * MIN_NORMAL_F32;
  for (let j = 0; j < cols; j++) {
    const c = exact[j]!;
    const err = Math.abs(claimed[i * cols + j]! - c);
    if (!(err <= rig * abs[j]! + floor)) return false;
    const own = Math.max(Math.abs(forward[j]! - c), Math.abs(backward[j]! - c));
    const sigma = sigmaScale * Math.sqrt(sq[j]! + (c * c) / 3);
    if (!(err <= Math.max(lambda * sigma, kappa * own) + floor)) return false;
  }
  return true;
}
