// The CPU engine's row ops that GPT-2 and BERT need beyond its kernels (split out of
// run-cpu.ts): LayerNorm and the residual add at widths off the kernels' 4-float step, and ReLU
// (no kernel), computed on views of engine memory; the rest dispatch to the engine's kernels.

import type { CpuKernels } from '../../cpu/kernels';
import type { Norm, Ptr, Shape } from './run-cpu-weights';

/** x (rows × dim) → y: RMSNorm (decoders) or LayerNorm with bias (GPT-2, BERT); y may be x. */
export async function norm(
  cpu: CpuKernels,
  eps: number,
  n: Norm,
  x: Ptr,
  y: Ptr,
  rows: number,
  dim: number,
) {
  if (n.b === undefined) return cpu.rmsnorm(x, n.w, y, rows, dim, eps);
  if (dim % 4 === 0) {
    return cpu.parallel('layernorm', rows, () => [x, n.w, n.b!, y, dim, eps], 1, 4 * dim);
  }
  // The kernel steps 4 floats at a time: other widths are normalised here.
  const xv = cpu.view(x, rows * dim);
  const yv = cpu.view(y, rows * dim);
  const g = cpu.view(n.w, dim);
  const b = cpu.view(n.b, dim);
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += xv[o + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (xv[o + i]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / dim + eps);
    for (let i = 0; i < dim; i++) yv[o + i] = (xv[o + i]! - mean) * rstd * g[i]! + b[i]!;
  }
}

/** h += x, rows × dim. */
export async function add(cpu: CpuKernels, h: Ptr, x: Ptr, rows: number, dim: number) {
  if (dim % 4 === 0) return cpu.parallel('residual', rows, () => [h, x, dim], 1, dim);
  const hv = cpu.view(h, rows * dim);
  const xv = cpu.view(x, rows * dim);
  for (let i = 0; i < hv.length; i++) hv[i] = hv[i]! + xv[i]!;
}

/** The MLP activation in place on g (rows × inter); u: the up projection (SwiGLU). */
export async function activate(cpu: CpuKernels, s: Shape, g: Ptr, u: Ptr, rows: number) {
  const n = s.inter;
  const act = s.act;
  if (act === 'silu-gate') return cpu.swiglu(g, u, g, rows, n);
  if (act === 'gelu') return cpu.geluErf(g, g, rows, n);
  if (act === 'tanh') return cpu.geluTanh(g, g, rows, n); // gelu_new / gelu_pytorch_tanh
  // ReLU has no kernel: computed on the view.
  const v = cpu.view(g, rows * n);
  for (let i = 0; i < v.length; i++) v[i] = Math.max(0, v[i]!);
}
