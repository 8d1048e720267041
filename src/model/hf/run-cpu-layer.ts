// One transformer layer and the LM head on the CPU engine, shared by the forward passes of
// run-cpu.ts (decoders and GPT-2 through the KV cache, BERT over its whole batch).

import type { CpuKernels } from '../../cpu/kernels';
import { activate, add, norm } from './run-cpu-ops';
import type { Layer, Mat, Norm, Ptr, Shape } from './run-cpu-weights';

/** The LM head's weights, and the most logits one chunk of it computes at once (floats). */
export interface LmHead {
  finalNorm: Norm;
  head: Mat;
  chunkFloats: number;
}

/**
 * One layer over `T` rows of the residual stream x: attention over k/v (cacheRows rows,
 * ranges per token) after `store` has put this call's keys and values there, then the MLP.
 * Pre-norm (decoders, GPT-2) or post-norm (BERT).
 */
export async function layer(
  cpu: CpuKernels,
  s: Shape,
  invFreq: Ptr,
  lw: Layer,
  x: Ptr,
  T: number,
  positions: Ptr,
  ranges: Ptr,
  cache: { k: Ptr; v: Ptr; rows: number; store?: (k: Ptr, v: Ptr) => void },
) {
  const H = s.hidden;
  const qW = s.heads * s.headDim;
  const kvW = s.kvHeads * s.headDim;
  const post = s.kind === 'bert';
  const n = post ? x : cpu.alloc(T * H);
  if (!post) await norm(cpu, s.eps, lw.norm1, x, n, T, H);
  const q = cpu.alloc(T * qW);
  const k = cache.store ? cpu.alloc(T * kvW) : cache.k;
  const v = cache.store ? cpu.alloc(T * kvW) : cache.v;
  await cpu.linear16(n, lw.q.ptr, lw.q.dtype, q, T, H, qW, lw.qB);
  await cpu.linear16(n, lw.k.ptr, lw.k.dtype, k, T, H, kvW, lw.kB);
  await cpu.linear16(n, lw.v.ptr, lw.v.dtype, v, T, H, kvW, lw.vB);
  if (lw.qNorm && lw.kNorm) {
    await cpu.rmsnorm(q, lw.qNorm, q, T * s.heads, s.headDim, s.eps);
    await cpu.rmsnorm(k, lw.kNorm, k, T * s.kvHeads, s.headDim, s.eps);
  }
  if (invFreq) {
    await cpu.rope(q, positions, invFreq, T, s.heads, s.headDim);
    await cpu.rope(k, positions, invFreq, T, s.kvHeads, s.headDim);
  }
  cache.store?.(k, v);
  await cpu.attentionGqa({
    q,
    k: cache.k,
    v: cache.v,
    ranges,
    out: q,
    tokens: T,
    heads: s.heads,
    kvHeads: s.kvHeads,
    headDim: s.headDim,
    cacheRows: cache.rows,
  });
  const tmp = cpu.alloc(T * H);
  await cpu.linear16(q, lw.o.ptr, lw.o.dtype, tmp, T, qW, H, lw.oB);
  if (post) {
    await add(cpu, tmp, x, T, H);
    await norm(cpu, s.eps, lw.norm1, tmp, x, T, H);
  } else {
    await add(cpu, x, tmp, T, H);
    await norm(cpu, s.eps, lw.norm2, x, n, T, H);
  }
  const g = cpu.alloc(T * s.inter);
  if (lw.gate) {
    const u = cpu.alloc(T * s.inter);
    await cpu.linear16(n, lw.gate.ptr, lw.gate.dtype, g, T, H, s.inter, lw.gateB);
    await cpu.linear16(n, lw.up.ptr, lw.up.dtype, u, T, H, s.inter, lw.upB);
    await activate(cpu, s, g, u, T);
  } else {
    await cpu.linear16(n, lw.up.ptr, lw.up.dtype, g, T, H, s.inter, lw.upB);
    await activate(cpu, s, g, 0, T);
  }
  await cpu.linear16(g, lw.down.ptr, lw.down.dtype, tmp, T, s.inter, H, lw.downB);
  await add(cpu, x === n ? tmp : x, x === n ? x : tmp, T, H);
  if (post) await norm(cpu, s.eps, lw.norm2, tmp, x, T, H);
}

/**
 * The final norm and the LM head over rows [from[b], perSeq) of each sequence b of x
 * (B × perSeq rows), a chunk of rows at a time so no call holds more than `lm.chunkFloats`
 * logits in engine memory. Returns (perSeq − from[b]) × vocab floats per sequence.
 */
export async function lmHead(
  cpu: CpuKernels,
  s: Shape,
  lm: LmHead,
  x: Ptr,
  B: number,
  perSeq: number,
  from: number[],
): Promise<Float32Array[]> {
  const H = s.hidden;
  const V = s.vocab;
  const out = from.map((f) => new Float32Array((perSeq - f) * V));
  const rows: [number, number][] = []; // [sequence, row within it]
  for (let b = 0; b < B; b++) for (let t = from[b]!; t < perSeq; t++) rows.push([b, t]);
  const chunk = Math.max(1, Math.floor(lm.chunkFloats / V));
  const head = lm.head;
  for (let c0 = 0; c0 < rows.length; c0 += chunk) {
    const part = rows.slice(c0, c0 + chunk);
    const mark = cpu.mark();
    const n = cpu.alloc(part.length * H);
    const xv = cpu.view(x, B * perSeq * H);
    const nv = cpu.view(n, part.length * H);
    for (const [i, [b, t]] of part.entries()) {
      const r = b * perSeq + t;
      nv.set(xv.subarray(r * H, (r + 1) * H), i * H);
    }
    await norm(cpu, s.eps, lm.finalNorm, n, n, part.length, H);
    const logits = cpu.alloc(part.length * V);
    await cpu.linear16(n, head.ptr, head.dtype, logits, part.length, H, V);
    const lv = cpu.view(logits, part.length * V);
    for (const [i, [b, t]] of part.entries()) {
      out[b]!.set(lv.subarray(i * V, (i + 1) * V), (t - from[b]!) * V);
    }
    cpu.release(mark);
  }
  return out;
}
