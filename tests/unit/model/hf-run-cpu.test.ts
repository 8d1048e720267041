// CpuHfModel (src/model/hf/run-cpu.ts): a loaded checkpoint run on the CPU engine, checked
// against the float64 reference (reference*.ts) on the tiny fixture checkpoints, on 1 and 2
// threads: prefill and KV-cache decode logits of a left-padded batch (positions as generate
// computes them), greedy tokens, padded batch against one at a time, decode against a fresh
// prefill, BERT's pooled embeddings, and the typed errors.
//
// Bound: every output within BOUND × max(1, max|reference|). The fixtures' weights are k/512,
// exact in every dtype, so one reference serves F32, F16 and BF16; the engine computes in
// float32 (u = 2⁻²⁴) through 2 layers of dot products of ≤ 48 terms, norms, softmax and exp/erf
// fits of a few u: first-order error ≲ 48·u·(a few products per layer) ≈ 1e-5 of the values'
// scale; BOUND leaves 10× over the worst measured (~2e-6).
import { afterAll, describe, expect, test } from 'vitest';
import { CpuError } from '../../../src/cpu/errors';
import { CpuKernels } from '../../../src/cpu/kernels';
import { spawnNodeHelper } from '../../../src/cpu/node-threads';
import { type Checkpoint, loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { filesFromMap } from '../../../src/model/hf/files';
import {
  bertForward,
  decoderForward,
  gpt2Forward,
  KvCache,
  poolEmbeddings,
} from '../../../src/model/hf/reference';
import { CpuHfModel } from '../../../src/model/hf/run-cpu';
import type { BertConfig, DecoderConfig, Gpt2Config } from '../../../src/model/hf/types';
import {
  type FixtureTensor,
  type HfFixtureKind,
  hfCheckpointFiles,
} from '../../support/hf-checkpoints';

const BOUND = 2e-5;

const engines = new Map<number, Promise<CpuKernels>>();
const engine = (threads: number) => {
  let e = engines.get(threads);
  if (!e) {
    // minWorkPerThread 0: helpers take part at these small shapes, so the tests exercise them.
    e = CpuKernels.create({ threads, spawn: spawnNodeHelper, minWorkPerThread: 0 });
    engines.set(threads, e);
  }
  return e;
};
afterAll(async () => {
  for (const e of engines.values()) (await e).dispose();
});

/** Llama 3.2's rotary scaling, its original context cut to 64 so the fixture's head of 8 has
 * frequencies kept, interpolated and slowed. */
const LLAMA3_ROPE = {
  rope_type: 'llama3',
  factor: 8,
  low_freq_factor: 1,
  high_freq_factor: 4,
  original_max_position_embeddings: 64,
};

/** Llama's `attention_bias` (q/k/v/o) and `mlp_bias` (gate/up/down), which the fixture writer
 * leaves out: added here, k/512 like every other weight. */
function withLlamaBiases(tensors: FixtureTensor[]): FixtureTensor[] {
  const out = [...tensors];
  for (const t of tensors) {
    const m =
      /^(model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj))\.weight$/.exec(
        t.name,
      );
    if (!m) continue;
    const n = t.shape[0]!;
    const values = Float64Array.from({ length: n }, (_, i) => (((i * 37 + n) % 511) - 255) / 512);
    out.push({ name: `${m[1]}.bias`, dtype: t.dtype, shape: [n], values });
  }
  return out;
}

/** Fixture variants beyond the writer's kinds. */
const VARIANTS = {
  llama3: { kind: 'llama', config: { rope_scaling: LLAMA3_ROPE } },
  'llama-bias': {
    kind: 'llama',
    config: { attention_bias: true, mlp_bias: true },
    edit: withLlamaBiases,
  },
  // A width off the kernels' 4-float step (layernorm and residual computed on views), erf GELU.
  'gpt2-30': { kind: 'gpt2', config: { n_embd: 30, n_head: 3, activation_function: 'gelu' } },
} as const;

type Kind = HfFixtureKind | keyof typeof VARIANTS;
const checkpoints = new Map<string, Promise<Checkpoint>>();
function checkpoint(kind: Kind, dtype: 'F32' | 'F16' | 'BF16') {
  const key = `${kind}/${dtype}`;
  let c = checkpoints.get(key);
  if (!c) {
    const files =
      kind in VARIANTS
        ? hfCheckpointFiles({ ...VARIANTS[kind as keyof typeof VARIANTS], dtype })
        : hfCheckpointFiles({ kind: kind as HfFixtureKind, dtype });
    c = loadCheckpoint(filesFromMap(files));
    checkpoints.set(key, c);
  }
  return c;
}

/** max |a − b| / max(1, max |b|). */
function relErr(a: Float32Array, b: Float64Array): number {
  let scale = 1;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  expect(a.length).toBe(b.length);
  return err / scale;
}

const argmax = (x: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[best]!) best = i;
  return best;
};
/** The gap between the largest and the second-largest value. */
const top2Gap = (x: Float64Array) => {
  const s = [...x].sort((a, b) => b - a);
  return s[0]! - s[1]!;
};

// Ragged prompts: one longer than Mistral's window of 6, one left-padded by 5.
const PROMPTS = [
  [5, 9, 4, 17, 2, 11, 3, 8],
  [6, 1, 12],
];
const STEPS = 3;

type Fwd = (
  tokens: number[][],
  o: { attentionMask?: number[][]; cache?: KvCache },
) => Float64Array[][];
function reference(ck: Checkpoint): { fwd: Fwd; layers: number } {
  const c = ck.config;
  if (c.family === 'gpt2') {
    return { fwd: (t, o) => gpt2Forward(c as Gpt2Config, ck.weights, t, o), layers: c.nLayer };
  }
  return {
    fwd: (t, o) => decoderForward(c as DecoderConfig, ck.weights, t, o),
    layers: (c as DecoderConfig).numLayers,
  };
}

const CAUSAL: [Kind, 'F32' | 'F16' | 'BF16'][] = [
  ['llama', 'F32'],
  ['llama3', 'BF16'],
  ['llama-bias', 'F16'],
  ['llama', 'BF16'],
  ['llama-tied', 'F16'],
  ['qwen2', 'BF16'],
  ['qwen3', 'F32'],
  ['qwen3', 'BF16'],
  ['mistral', 'F32'],
  ['mistral', 'BF16'],
  ['gpt2', 'F32'],
  ['gpt2', 'BF16'],
  ['gpt2-30', 'F32'],
];

describe.each([1, 2])('CpuHfModel on %i thread(s)', (threads) => {
  test.each(CAUSAL)(
    '%s %s: prefill and decode steps of a left-padded batch match the reference',
    async (kind, dtype) => {
      const cpu = await engine(threads);
      const ck = await checkpoint(kind, dtype);
      const model = await CpuHfModel.load(cpu, ck);
      try {
        const { fwd, layers } = reference(ck);
        const P = Math.max(...PROMPTS.map((p) => p.length));
        const padded = PROMPTS.map((p) => [...new Array<number>(P - p.length).fill(0), ...p]);
        const mask = PROMPTS.map((p) => [
          ...new Array<number>(P - p.length).fill(0),
          ...p.map(() => 1),
        ]);
        const cache = new KvCache(PROMPTS.length, layers);
        let ref = fwd(padded, { attentionMask: mask, cache }).map((r) => r[P - 1]!);
        let got = await model.start(PROMPTS, STEPS);
        const seqs = PROMPTS.map((p) => [...p]);
        for (let step = 0; ; step++) {
          ref.forEach((r, b) => {
            expect(relErr(got[b]!, r)).toBeLessThan(BOUND);
            // Greedy decoding picks the reference's token wherever its margin is clear.
            if (top2Gap(r) > 2 * BOUND * Math.max(1, ...r.map(Math.abs))) {
              expect(argmax(got[b]!)).toBe(argmax(r));
            }
          });
          if (step === STEPS) break;
          const next = ref.map(argmax);
          for (const [b, t] of next.entries()) seqs[b]!.push(t);
          ref = fwd(
            next.map((t) => [t]),
            { cache },
          ).map((r) => r[0]!);
          got = await model.step(next);
        }
        // Each sequence alone, prefilled whole, gives what the batch's cached decode gave.
        for (const [b, seq] of seqs.entries()) {
          const alone = (await model.start([seq], 0))[0]!;
          expect(relErr(alone, Float64Array.from(got[b]!))).toBeLessThan(BOUND);
        }
        // The batch's prefill equals each prompt alone.
        const batch = await model.start(PROMPTS, 0);
        for (const [b, p] of PROMPTS.entries()) {
          const alone = (await model.start([p], 0))[0]!;
          expect(relErr(batch[b]!, Float64Array.from(alone))).toBeLessThan(BOUND);
        }
        await expect(model.step([1, 2])).rejects.toSatisfy(
          (e) => e instanceof CpuError && e.code === 'invalid-argument',
        );
      } finally {
        await model.dispose();
      }
    },
  );

  test.each(['F32', 'BF16'] as const)(
    'bert %s: pooled embeddings of a right-padded batch match the reference, every pooling',
    async (dtype) => {
      const cpu = await engine(threads);
      const ck = await checkpoint('bert', dtype);
      const c = ck.config as BertConfig;
      const batch = [
        [2, 17, 33, 5, 9, 63, 3],
        [2, 8, 3],
        [2, 40, 41, 42, 3],
      ];
      const types = batch.map((r, b) => r.map((_, t) => (b === 2 && t > 2 ? 1 : 0)));
      const L = 7;
      const tokens = batch.map((r) => [...r, ...new Array<number>(L - r.length).fill(0)]);
      const mask = batch.map((r) => [
        ...r.map(() => 1),
        ...new Array<number>(L - r.length).fill(0),
      ]);
      const tokenTypeIds = types.map((r) => [...r, ...new Array<number>(L - r.length).fill(0)]);
      const hidden = bertForward(c, ck.weights, tokens, { attentionMask: mask, tokenTypeIds });
      expect(ck.pooling).toEqual({ mode: 'mean', normalize: true });
      const poolings = [
        ck.pooling!,
        { mode: 'cls', normalize: false },
        { mode: 'max', normalize: false },
        { mode: 'lasttoken', normalize: true },
      ] as const;
      for (const pooling of poolings) {
        const model = await CpuHfModel.load(cpu, { ...ck, pooling });
        try {
          const got = await model.embed(batch, types);
          const want = poolEmbeddings(hidden, mask, pooling);
          for (const [b, g] of got.entries()) expect(relErr(g, want[b]!)).toBeLessThan(BOUND);
          // Alone, unpadded, the same.
          const alone = (await model.embed([batch[1]!], [types[1]!]))[0]!;
          expect(relErr(alone, Float64Array.from(got[1]!))).toBeLessThan(BOUND);
        } finally {
          await model.dispose();
        }
      }
    },
  );
});

describe('CpuHfModel logits at every position', () => {
  test.each([
    ['llama', 'F32', 1],
    ['mistral', 'BF16', 2],
    ['gpt2', 'F16', 2],
  ] as const)(
    '%s %s (%i threads): each row is the reference’s at that prefix, the head in chunks; an open batch is left as it was',
    async (kind, dtype, threads) => {
      const cpu = await engine(threads);
      const ck = await checkpoint(kind, dtype);
      const V = ck.config.vocabSize;
      const { fwd } = reference(ck);
      const model = await CpuHfModel.load(cpu, ck);
      try {
        model.headChunkFloats = 3 * V; // three rows a chunk: chunks cross sequences
        const from = 2;
        const first = await model.start(PROMPTS, 2);
        const got = await model.logits(PROMPTS, from);
        for (const [b, p] of PROMPTS.entries()) {
          const ref = fwd([p], {})[0]!;
          expect(got[b]!.length).toBe((p.length - from) * V);
          for (let t = from; t < p.length; t++) {
            const row = got[b]!.subarray((t - from) * V, (t - from + 1) * V);
            expect(relErr(row, ref[t]!)).toBeLessThan(BOUND);
          }
          // The last row is what start gave.
          expect(relErr(first[b]!, ref.at(-1)!)).toBeLessThan(BOUND);
        }
        // The batch start opened steps on as if logits had not run.
        const next = first.map(argmax);
        const stepped = await model.step(next);
        for (const [b, p] of PROMPTS.entries()) {
          const ref = fwd([[...p, next[b]!]], {})[0]!.at(-1)!;
          expect(relErr(stepped[b]!, ref)).toBeLessThan(BOUND);
        }
        const typed = (e: unknown) => e instanceof CpuError && e.code === 'invalid-argument';
        await expect(model.logits(PROMPTS, 3)).rejects.toSatisfy(typed); // the shortest has 3
        await expect(model.logits(PROMPTS, -1)).rejects.toSatisfy(typed);
      } finally {
        await model.dispose();
      }
    },
  );
});

describe('CpuHfModel memory and errors', () => {
  test('resident weights are the file size; the cache is what the batch needs; bad calls are typed errors', async () => {
    const cpu = await engine(1);
    const ck = await checkpoint('qwen3', 'BF16');
    const c = ck.config as DecoderConfig;
    const file = (await ck.files.read('model.safetensors')).length;
    const before = cpu.mark();
    const model = await CpuHfModel.load(cpu, ck);
    const { weights } = model.residentBytes;
    // Norms widened to float32 and cache-line padding: a few KB over the file's tensors.
    expect(weights).toBeGreaterThan(0.9 * file);
    expect(weights).toBeLessThan(1.2 * file);
    await model.start(PROMPTS, 4);
    const rows = PROMPTS.length * (8 + 4);
    const kv = 2 * c.numLayers * rows * c.numKvHeads * c.headDim * 4;
    expect(model.residentBytes.kvCache).toBeGreaterThanOrEqual(kv);
    expect(model.residentBytes.kvCache).toBeLessThan(kv + 2 * c.numLayers * 64);
    const typed = (e: unknown) => e instanceof CpuError && e.code === 'invalid-argument';
    await expect(model.step([1])).rejects.toSatisfy(typed); // 2 sequences
    await expect(model.step([1, 64])).rejects.toSatisfy(typed); // outside the vocabulary
    await expect(model.start([[1], []], 2)).rejects.toSatisfy(typed);
    await expect(model.embed([[1]])).rejects.toSatisfy(typed);
    for (let i = 0; i < 4; i++) await model.step([1, 2]);
    await expect(model.step([1, 2])).rejects.toSatisfy(typed); // the cache is full
    // A model loaded above it must go first.
    const bert = await CpuHfModel.load(cpu, await checkpoint('bert', 'F32'));
    await expect(bert.start([[1]], 1)).rejects.toSatisfy(typed);
    await expect(model.dispose()).rejects.toSatisfy(typed);
    await bert.dispose();
    await model.dispose();
    expect(cpu.mark()).toBe(before);
    // GPT-2's learned positions end at n_positions (32).
    const gpt2 = await CpuHfModel.load(cpu, await checkpoint('gpt2', 'F32'));
    await gpt2.start([new Array(31).fill(5)], 3);
    await gpt2.step([1]);
    await expect(gpt2.step([1])).rejects.toSatisfy(typed);
    await gpt2.dispose();
  });
});
