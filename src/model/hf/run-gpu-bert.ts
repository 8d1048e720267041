// BertModel and sentence-transformers pooling on the GPU (split out of run-gpu.ts): one
// encoder pass over a right-padded batch, post-LN layers, then the checkpoint's pooling.

import type { GpuContext } from '../../gpu/context';
import type { HfOps, POOL_MODES } from '../../gpu/hf/ops';
import type { GpuWeights } from '../../gpu/hf/tensors';
import { readBack } from '../../gpu/transfer';
import { DEFAULT_POOLING } from './run-cpu-pool';
import { activate, adder, scratch } from './run-gpu-scratch';
import { activation, type Layer } from './run-gpu-weights';
import type { BertConfig, PoolingConfig } from './types';

/** What a BERT pass reads: the model's context, kernels and uploaded weights. */
export interface BertGpu {
  ctx: GpuContext;
  hf: HfOps;
  residual: GPUComputePipeline;
  w: Record<string, GpuWeights>;
  layers: Layer[];
  pooling: PoolingConfig | undefined;
}

/** One pooled embedding (hidden floats) per sequence; `tokenTypes` default to 0. Checked by
 * the caller: non-empty sequences, types shaped as the tokens. */
export async function bertEmbed(
  g: BertGpu,
  c: BertConfig,
  batch: number[][],
  tokenTypes?: number[][],
): Promise<Float32Array[]> {
  const pooling = g.pooling ?? DEFAULT_POOLING;
  const B = batch.length;
  const T = Math.max(...batch.map((p) => p.length));
  const H = c.hiddenSize;
  const d = H / c.numHeads;
  const I = c.intermediateSize;
  const rows = B * T;
  const { ctx, hf, w } = g;
  const { buf, ids, own, done } = scratch(ctx);
  const grid = (f: (b: number, t: number) => number) =>
    batch.flatMap((p, b) => Array.from({ length: T }, (_, t) => (t < p.length ? f(b, t) : 0)));
  const add = adder(ctx, g.residual, rows * H, own);
  try {
    const tokenIds = ids(
      grid((b, t) => batch[b]![t]!),
      c.vocabSize,
      'tokens',
    );
    const typeIds = ids(
      grid((b, t) => tokenTypes?.[b]?.[t] ?? 0),
      c.typeVocabSize,
      'token types',
    );
    const posIds = ids(
      batch.flatMap(() => Array.from({ length: T }, (_, t) => t)),
      c.maxPositions,
      'positions',
    );
    const mask = ids(
      grid(() => 1),
      2,
      'mask',
    );
    const valid = ids(
      batch.flatMap((p) => [0, p.length]),
      T + 1,
      'valid slots',
    );
    const e = buf(rows * H, 'embeddings');
    const h = buf(rows * H, 'h');
    const x = buf(rows * H, 'x');
    const q = buf(rows * H, 'q');
    const k = buf(rows * H, 'k');
    const v = buf(rows * H, 'v');
    const att = buf(rows * H, 'attention');
    const f = buf(rows * I, 'intermediate');
    const pooled = buf(B * H, 'pooled');
    const eps = c.layerNormEps;
    const act = activation(c.hiddenAct);
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    await hf.embedding(pass, {
      tokenIds,
      positionIds: posIds,
      typeIds,
      word: w.word!,
      position: w.position!,
      tokenType: w.type!,
      out: e,
      rows,
      dim: H,
    });
    await hf.layernorm(pass, { x: e, w: w.embNorm!, bias: w.embBias!, y: h, rows, dim: H, eps });
    const lin = (
      xb: GPUBuffer,
      wt: GpuWeights,
      bias: GpuWeights,
      y: GPUBuffer,
      i: number,
      o: number,
    ) => hf.linear(pass, { x: xb, w: wt, bias, y, rows, inDim: i, outDim: o });
    for (const lw of g.layers) {
      await lin(h, lw.q!, lw.qb!, q, H, H);
      await lin(h, lw.k!, lw.kb!, k, H, H);
      await lin(h, lw.v!, lw.vb!, v, H, H);
      await hf.attention(pass, {
        q,
        k,
        v,
        valid,
        out: att,
        batch: B,
        tokens: T,
        heads: c.numHeads,
        kvHeads: c.numHeads,
        headDim: d,
        capacity: T,
        past: 0,
        causal: false,
      });
      // Post-LN: h = LN(h + o(att)), then h = LN(h + down(act(up(h)))).
      await lin(att, lw.o!, lw.ob!, x, H, H);
      add(pass, x, h);
      await hf.layernorm(pass, { x, w: lw.ln1!, bias: lw.ln1b!, y: h, rows, dim: H, eps });
      await lin(h, lw.up!, lw.upb!, f, H, I);
      await activate(hf, pass, act, f, rows * I);
      await lin(f, lw.down!, lw.downb!, x, I, H);
      add(pass, x, h);
      await hf.layernorm(pass, { x, w: lw.ln2!, bias: lw.ln2b!, y: h, rows, dim: H, eps });
    }
    const mode: keyof typeof POOL_MODES = pooling.mode;
    await hf.pool(pass, {
      hidden: h,
      mask,
      out: pooled,
      batch: B,
      seq: T,
      dim: H,
      mode,
      normalize: pooling.normalize,
    });
    pass.end();
    const out = new Float32Array(await readBack(ctx, pooled, B * H * 4, enc));
    return Array.from({ length: B }, (_, b) => out.slice(b * H, (b + 1) * H));
  } finally {
    hf.release();
    done();
  }
}
