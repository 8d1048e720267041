// GpuHfModel (src/model/hf/run-gpu.ts) on a real WebGPU device (SwiftShader under Node), on the
// tiny random-weight checkpoints of tests/support/hf-checkpoints.ts, against the float64
// reference (src/model/hf/reference*.ts): prefill and cached decode logits, left-padded batches
// against each sequence alone, cached decode against a fresh prefill, greedy tokens, and BERT's
// pooled embeddings.
//
// Bounds, per row: |got − ref| ≤ LOGIT_TOL·(1 + max|ref|) for logits, EMBED_TOL·(1 + max|ref|)
// for pooled embeddings. The fixtures' weights are exact in F32 and BF16, so the reference sees
// the GPU's inputs; what is left is f32 rounding through two layers of width ≤ 48 (each
// kernel's own bound, tests/unit/gpu/hf-gpu-kernels.test.ts, is at most ~100 u of its output;
// u = 2⁻²⁴ ≈ 6e−8), carried through the norms and the head. Measured worst: 0.17 of LOGIT_TOL's
// bound (Llama F32), 0.1 of EMBED_TOL's; an error in positions, masks or the window is O(1).

import { describe, expect, test } from 'vitest';
import { GpuError } from '../../../src/gpu/errors';
import { loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { filesFromMap } from '../../../src/model/hf/files';
import {
  bertForward,
  decoderForward,
  gpt2Forward,
  KvCache,
  poolEmbeddings,
} from '../../../src/model/hf/reference';
import { GpuHfModel } from '../../../src/model/hf/run-gpu';
import type { BertConfig, DecoderConfig, Gpt2Config } from '../../../src/model/hf/types';
import { useGpu } from '../../support/gpu-fixture';
import { type HfFixtureKind, hfCheckpointFiles } from '../../support/hf-checkpoints';

const gpu = useGpu();
const LOGIT_TOL = 1e-5;
const EMBED_TOL = 1e-6;

const load = (
  kind: HfFixtureKind,
  dtype: 'F32' | 'BF16' | 'F16',
  config?: Record<string, unknown>,
) =>
  loadCheckpoint(filesFromMap(hfCheckpointFiles({ kind, dtype, ...(config ? { config } : {}) })));

/** Llama 3.1's rescaled rotary frequencies, scaled to the fixture's 8-wide heads: wavelengths
 * 6.3 (interpolated), 63 and up (slowed by `factor`). */
const LLAMA3_ROPE = {
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 16,
  },
};

/** Every element within tol·(1 + max|want|). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  expect(got.length).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  const bound = tol * (1 + scale);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    if (!(err <= bound))
      expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]} (|err| ${err} > ${bound})`);
  }
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

/** The gap between the largest two values. */
function topGap(v: ArrayLike<number>): number {
  const s = Array.from(v).sort((a, b) => b - a);
  return s[0]! - s[1]!;
}

const PROMPTS = [
  [3, 17, 5, 60, 22, 9, 41, 8, 33], // longer than Mistral's window of 6
  [7, 2, 50, 11],
  [12],
];
const STEPS = 3;

describe('GpuHfModel generation', () => {
  // Every family in F32; BF16 (16-bit weights read in place) through biases (Qwen2), q/k norms
  // (Qwen3), and Conv1D + LayerNorm (GPT-2); F16 once (tied Llama: the head reads the F16 table).
  const cases: [HfFixtureKind, 'F32' | 'F16' | 'BF16', string, Record<string, unknown>?][] = [
    ...(['llama', 'llama-tied', 'qwen2', 'qwen3', 'mistral', 'gpt2'] as const).map(
      (k) => [k, 'F32', ''] as [HfFixtureKind, 'F32', string],
    ),
    ['llama', 'F32', ' (llama3 rope scaling)', LLAMA3_ROPE],
    ['llama-tied', 'F16', ''],
    ...(['qwen2', 'qwen3', 'gpt2'] as const).map(
      (k) => [k, 'BF16', ''] as [HfFixtureKind, 'BF16', string],
    ),
  ];
  test.each(cases)(
    '%s %s%s: prefill and cached decode of a left-padded batch match the reference alone',
    async (kind, dtype, _, config) => {
      const ck = await load(kind, dtype, config);
      if (config) expect((ck.config as DecoderConfig).ropeScaling).toBeDefined();
      const c = ck.config as DecoderConfig | Gpt2Config;
      const fwd = (t: number[][], cache: KvCache) =>
        c.family === 'gpt2'
          ? gpt2Forward(c, ck.weights, t, { cache })
          : decoderForward(c, ck.weights, t, { cache });
      const layers = c.family === 'gpt2' ? c.nLayer : c.numLayers;
      const model = await GpuHfModel.load(gpu.ctx, ck);
      // Weights stay in their stored width: resident bytes within 1.2× the tensors' own.
      const fileBytes = ck.weights
        .names()
        .reduce((n, k) => n + ck.weights.get(k).data.byteLength, 0);
      expect(model.weightBytes).toBeLessThanOrEqual(1.2 * fileBytes);
      try {
        let logits = await model.start(PROMPTS, STEPS);
        const prefill = logits;
        const caches = PROMPTS.map(() => new KvCache(1, layers));
        let refs = PROMPTS.map((p, b) => fwd([p], caches[b]!)[0]!.at(-1)!);
        const generated = PROMPTS.map(() => [] as number[]);
        let greedy = 0; // positions where the greedy token was compared
        for (let step = 0; ; step++) {
          const next: number[] = [];
          for (let b = 0; b < PROMPTS.length; b++) {
            expectClose(logits[b]!, refs[b]!, LOGIT_TOL, `${kind} step ${step} seq ${b}`);
            const scale = 1 + Math.max(...Array.from(refs[b]!, Math.abs));
            // Greedy: the same token wherever the reference's top two are further apart than
            // twice the bound (each side within it).
            if (topGap(refs[b]!) > 2 * LOGIT_TOL * scale) {
              expect(argmax(logits[b]!)).toBe(argmax(refs[b]!));
              greedy++;
            }
            next.push(argmax(refs[b]!));
          }
          if (step === STEPS) break;
          for (const [b, t] of next.entries()) generated[b]!.push(t);
          logits = await model.step(next);
          refs = next.map((t, b) => fwd([[t]], caches[b]!)[0]![0]!);
        }
        expect(greedy).toBeGreaterThan(PROMPTS.length * STEPS);
        // Cached decode against a fresh prefill of the longer sequences on the GPU.
        const longer = PROMPTS.map((p, b) => [...p, ...generated[b]!.slice(0, -1)]);
        const fresh = await model.start(longer, 0);
        fresh.forEach((f, b) => {
          const ref = fwd([[...longer[b]!]], new KvCache(1, layers))[0]!.at(-1)!;
          expectClose(f, ref, LOGIT_TOL, `${kind} fresh ${b}`);
        });
        // The padded batch against one of its sequences alone, both on the GPU.
        const alone = await model.start([PROMPTS[1]!], 1);
        expectClose(prefill[1]!, alone[0]!, LOGIT_TOL, `${kind} alone`);
      } finally {
        model.dispose();
      }
    },
  );

  test('bad calls are typed errors', async () => {
    const model = await GpuHfModel.load(gpu.ctx, await load('llama', 'F32'));
    try {
      await expect(model.step([1])).rejects.toBeInstanceOf(GpuError);
      await expect(model.start([[64]], 1)).rejects.toBeInstanceOf(GpuError);
      await expect(model.start([[]], 1)).rejects.toBeInstanceOf(GpuError);
      await expect(model.embed([[1]])).rejects.toBeInstanceOf(GpuError);
      await model.start([[1, 2]], 1);
      await expect(model.step([1, 2])).rejects.toBeInstanceOf(GpuError);
      await model.step([3]);
      await expect(model.step([3])).rejects.toThrow(/full/);
      // A failed prefill ends the generation: nothing to step on.
      await expect(model.start([[1, 64]], 1)).rejects.toBeInstanceOf(GpuError);
      await expect(model.step([1])).rejects.toThrow(/before start/);
    } finally {
      model.dispose();
    }
    await expect(model.start([[1]], 1)).rejects.toThrow(/disposed/);
  });
});

describe('GpuHfModel logits at every position', () => {
  test.each([
    ['mistral', 'BF16'],
    ['gpt2', 'F32'],
  ] as const)(
    '%s %s: each row is the reference’s at that prefix, the head in chunks; an open batch is left as it was',
    async (kind, dtype) => {
      const ck = await load(kind, dtype);
      const c = ck.config as DecoderConfig | Gpt2Config;
      const fwd = (t: number[]) =>
        (c.family === 'gpt2'
          ? gpt2Forward(c, ck.weights, [t])
          : decoderForward(c, ck.weights, [t]))[0]!;
      const V = c.vocabSize;
      const model = await GpuHfModel.load(gpu.ctx, ck);
      try {
        model.headChunkFloats = 4 * V; // four rows a chunk: chunks cross sequences
        const from = 0;
        const first = await model.start(PROMPTS, 2);
        const got = await model.logits(PROMPTS, from);
        for (const [b, p] of PROMPTS.entries()) {
          const ref = fwd(p);
          expect(got[b]!.length).toBe((p.length - from) * V);
          for (let t = from; t < p.length; t++) {
            const row = got[b]!.subarray((t - from) * V, (t - from + 1) * V);
            expectClose(row, ref[t]!, LOGIT_TOL, `${kind} seq ${b} position ${t}`);
          }
        }
        const next = first.map(argmax);
        const stepped = await model.step(next);
        for (const [b, p] of PROMPTS.entries()) {
          expectClose(stepped[b]!, fwd([...p, next[b]!]).at(-1)!, LOGIT_TOL, `${kind} step ${b}`);
        }
        await expect(model.logits(PROMPTS, 1)).rejects.toBeInstanceOf(GpuError); // [12] has 1
      } finally {
        model.dispose();
      }
    },
  );
});

describe('GpuHfModel embeddings', () => {
  test.each(['F32', 'BF16'] as const)(
    'bert %s: pooled embeddings of a ragged batch',
    async (dtype) => {
      const ck = await load('bert', dtype);
      const c = ck.config as BertConfig;
      const model = await GpuHfModel.load(gpu.ctx, ck);
      try {
        const batch = [
          [1, 9, 30, 4, 2],
          [1, 7, 2],
          [1, 5, 6, 8, 10, 2],
        ];
        const types = batch.map((s) => s.map((_, i) => (i >= 2 ? 1 : 0)));
        const got = await model.embed(batch, types);
        batch.forEach((s, b) => {
          const hidden = bertForward(c, ck.weights, [s], { tokenTypeIds: [types[b]!] });
          const want = poolEmbeddings(hidden, [s.map(() => 1)], ck.pooling!)[0]!;
          expectClose(got[b]!, want, EMBED_TOL, `bert ${b}`);
        });
        await expect(model.start([[1]], 1)).rejects.toBeInstanceOf(GpuError);
      } finally {
        model.dispose();
      }
    },
  );
});
