// The LM head of a Hugging Face decoder or GPT-2 on the GPU (final norm, then the head in
// chunks of rows), and the shapes generation needs: run-gpu.ts's forward pass ends here.

import type { GpuContext } from '../../gpu/context';
import type { HfOps } from '../../gpu/hf/ops';
import type { GpuWeights } from '../../gpu/hf/tensors';
import { readBack } from '../../gpu/transfer';
import type { DecoderConfig, Gpt2Config, ModelConfig } from './types';

/** What the LM head runs with: the device, its kernels, the weights, and the most logits one
 * chunk computes at once (floats). */
export interface LmHead {
  ctx: GpuContext;
  hf: HfOps;
  w: Record<string, GpuWeights>;
  chunkFloats: number;
}

/** The shapes generation needs, from a decoder's or GPT-2's config. */
export function decoderDims(config: ModelConfig) {
  const c = config as DecoderConfig | Gpt2Config;
  if (c.family === 'gpt2') {
    const d = c.nEmbd / c.nHead;
    return { H: c.nEmbd, heads: c.nHead, kvHeads: c.nHead, d, I: c.nInner, V: c.vocabSize };
  }
  return {
    H: c.hiddenSize,
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    d: c.headDim,
    I: c.intermediateSize,
    V: c.vocabSize,
  };
}

/**
 * The final norm and the LM head over slots [from[b], T) of each sequence b of h (B × T rows
 * of the hidden width), a chunk of rows at a time: no chunk's logits exceed `lm.chunkFloats`
 * or a binding. The first chunk is submitted with `enc` (the layers' work).
 */
export async function lmHead(
  lm: LmHead,
  config: ModelConfig,
  h: GPUBuffer,
  T: number,
  from: number[],
  enc: GPUCommandEncoder,
  buf: (floats: number, label: string) => GPUBuffer,
): Promise<Float32Array[]> {
  const c = config as DecoderConfig | Gpt2Config;
  const { H, V } = decoderDims(config);
  const { ctx, hf, w } = lm;
  const out = from.map((f) => new Float32Array((T - f) * V));
  const rows: [number, number][] = []; // [sequence, slot]
  for (const [b, f] of from.entries()) for (let t = f; t < T; t++) rows.push([b, t]);
  const bindable = Math.floor(ctx.device.limits.maxStorageBufferBindingSize / (4 * V));
  const chunk = Math.max(1, Math.min(Math.floor(lm.chunkFloats / V), bindable, rows.length));
  const last = buf(chunk * H, 'head rows');
  const lastN = buf(chunk * H, 'head rows normed');
  const logits = buf(chunk * V, 'logits');
  let encoder = enc;
  for (let c0 = 0; c0 < rows.length; c0 += chunk) {
    const part = rows.slice(c0, c0 + chunk);
    const n = part.length;
    for (const [i, [b, t]] of part.entries())
      encoder.copyBufferToBuffer(h, (b * T + t) * H * 4, last, i * H * 4, H * 4);
    const pass = encoder.beginComputePass();
    if (c.family === 'gpt2') {
      const eps = c.layerNormEpsilon;
      await hf.layernorm(pass, {
        x: last,
        w: w.finalNorm!,
        bias: w.finalBias!,
        y: lastN,
        rows: n,
        dim: H,
        eps,
      });
    } else {
      await hf.rmsnorm(pass, {
        x: last,
        w: w.finalNorm!,
        y: lastN,
        rows: n,
        dim: H,
        eps: c.rmsNormEps,
      });
    }
    await hf.linear(pass, { x: lastN, w: w.head!, y: logits, rows: n, inDim: H, outDim: V });
    pass.end();
    const got = new Float32Array(await readBack(ctx, logits, n * V * 4, encoder));
    for (const [i, [b, t]] of part.entries())
      out[b]!.set(got.subarray(i * V, (i + 1) * V), (t - from[b]!) * V);
    encoder = ctx.device.createCommandEncoder();
  }
  return out;
}
