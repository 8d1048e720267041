// Every Hugging Face family's ONNX export (src/model/hf/onnx-export.ts) run by ONNX Runtime Web's
// wasm backend, against the float64 reference (src/model/hf/reference*.ts) on the same fixture
// checkpoint: two implementations written apart from transformers' modeling code, agreeing
// within float32 rounding on an unpadded and a padded batch.
import * as ort from 'onnxruntime-web/wasm';
import { describe, expect, test } from 'vitest';
import { type Checkpoint, loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { filesFromMap } from '../../../src/model/hf/files';
import { exportOnnx, OnnxExportError } from '../../../src/model/hf/onnx-export';
import { bertForward, decoderForward, gpt2Forward } from '../../../src/model/hf/reference';
import { gammaF32 } from '../../../src/reference/matmul';
import {
  type FixtureTensor,
  HF_FIXTURE_KINDS,
  type HfFixtureKind,
  type HfFixtureOptions,
  hfCheckpointFiles,
} from '../../support/hf-checkpoints';

ort.env.wasm.numThreads = 1;

/** Llama 3.2's rope_scaling, its original context cut to 1024 so that at head size 8 and
 * θ = 10⁴ one frequency is kept, one interpolated (λ ≈ 628) and one divided by `factor`. */
const LLAMA3_SCALING = {
  rope_type: 'llama3',
  factor: 8.0,
  low_freq_factor: 1.0,
  high_freq_factor: 4.0,
  original_max_position_embeddings: 1024,
};

/** Bias vectors (values k/512, as the fixture's) for the projections named by `pattern`, which
 * the fixture leaves out: a config's attention_bias / mlp_bias asks for them. */
const withBiases = (pattern: RegExp) => (tensors: FixtureTensor[]) => {
  const extra = tensors
    .filter((t) => pattern.test(t.name) && t.name.endsWith('.weight'))
    .map((t, n) => ({
      name: t.name.replace(/weight$/, 'bias'),
      dtype: t.dtype,
      shape: [t.shape[0]!],
      values: Float64Array.from(
        { length: t.shape[0]! },
        (_, i) => ((i * 37 + n * 11) % 201) / 512 - 0.2,
      ),
    }));
  return [...tensors, ...extra];
};

/** Configurations beyond the fixture kinds' own: every flag the exporter branches on. */
const VARIANTS = {
  'llama3-scaled': { kind: 'llama', config: { rope_scaling: LLAMA3_SCALING } },
  // LlamaAttention's attention_bias covers q/k/v/o; LlamaMLP's mlp_bias gate/up/down.
  'llama-biased': {
    kind: 'llama',
    config: { attention_bias: true, mlp_bias: true },
    edit: withBiases(/(self_attn\.[qkvo]_proj|mlp\.\w+_proj)\.weight$/),
  },
  // Qwen3Attention's attention_bias covers o_proj too (Qwen2's q/k/v only).
  'qwen3-biased': {
    kind: 'qwen3',
    config: { attention_bias: true },
    edit: withBiases(/self_attn\.[qkvo]_proj\.weight$/),
  },
  'gpt2-erf-gelu': { kind: 'gpt2', config: { activation_function: 'gelu' } },
  'bert-gelu-new': { kind: 'bert', config: { hidden_act: 'gelu_new' } },
} satisfies Record<string, Pick<HfFixtureOptions, 'kind' | 'config' | 'edit'>>;

type Case = HfFixtureKind | keyof typeof VARIANTS;

async function load(name: Case, dtype: 'F32' | 'F16' | 'BF16'): Promise<Checkpoint> {
  const variant: Pick<HfFixtureOptions, 'kind' | 'config' | 'edit'> =
    name in VARIANTS ? VARIANTS[name as keyof typeof VARIANTS] : { kind: name as HfFixtureKind };
  return loadCheckpoint(filesFromMap(hfCheckpointFiles({ ...variant, dtype, seed: 5 })));
}

/** A batch of `rows` token rows of `seq`, with `pad[b]` padding slots on the `side` of row b. */
function batch(rows: number, seq: number, vocab: number, pad: number[], side: 'left' | 'right') {
  const tokens: number[][] = [];
  const mask: number[][] = [];
  for (let b = 0; b < rows; b++) {
    const real = (i: number) => (side === 'left' ? i >= pad[b]! : i < seq - pad[b]!);
    tokens.push(
      Array.from({ length: seq }, (_, i) => (real(i) ? (b * 17 + i * 7 + 3) % vocab : 0)),
    );
    mask.push(Array.from({ length: seq }, (_, i) => (real(i) ? 1 : 0)));
  }
  return { tokens, mask, types: tokens.map((r) => r.map((_, i) => (i * 3 >= r.length ? 1 : 0))) };
}

const int64 = (grid: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(grid.flat(), BigInt), [grid.length, grid[0]!.length]);

/** The checkpoint's widths that bound a float32 dot product's length. */
function depth(ck: Checkpoint): { layers: number; k: number } {
  const c = ck.config;
  if (c.family === 'gpt2') return { layers: c.nLayer, k: c.nInner };
  if (c.family === 'bert') return { layers: c.numLayers, k: c.intermediateSize };
  return { layers: c.numLayers, k: Math.max(c.intermediateSize, c.numHeads * c.headDim) };
}

/** Each fixture kind with F32 and one 16-bit dtype (both 16-bit dtypes appear across them);
 * the variants in F32. */
const CASES: [Case, 'F32' | 'F16' | 'BF16'][] = [
  ...HF_FIXTURE_KINDS.flatMap((kind): [Case, 'F32' | 'F16' | 'BF16'][] => [
    [kind, 'F32'],
    [kind, /^(gpt2|bert)/.test(kind) ? 'F16' : 'BF16'],
  ]),
  ...Object.keys(VARIANTS).map((v): [Case, 'F32'] => [v as Case, 'F32']),
];

describe('Hugging Face checkpoints exported to ONNX', () => {
  test.each(CASES)('%s (%s): ONNX Runtime gives the reference values', async (kind, dtype) => {
    const ck = await load(kind, dtype);
    const model = exportOnnx(ck);
    const session = await ort.InferenceSession.create(model.bytes);
    const c = ck.config;
    const bert = c.family === 'bert';
    const vocab = c.vocabSize;
    // 9 slots: past Mistral's window of 6; a left-padded (right for BERT) row beside a full one.
    for (const pad of [
      [0, 0],
      [0, 4],
    ]) {
      const { tokens, mask, types } = batch(2, 9, vocab, pad, bert ? 'right' : 'left');
      const feeds: Record<string, ort.Tensor> = {
        input_ids: int64(tokens),
        attention_mask: int64(mask),
      };
      if (bert) feeds.token_type_ids = int64(types);
      const got = (await session.run(feeds))[model.output]!;
      const want =
        c.family === 'bert'
          ? bertForward(c, ck.weights, tokens, { attentionMask: mask, tokenTypeIds: types })
          : c.family === 'gpt2'
            ? gpt2Forward(c, ck.weights, tokens, { attentionMask: mask })
            : decoderForward(c, ck.weights, tokens, { attentionMask: mask });
      const width = want[0]![0]!.length;
      expect(got.dims).toEqual([2, 9, width]);
      const data = got.data as Float32Array;
      // Padded slots too: a query with every key masked must not turn NaN (it would reach the
      // real tokens through its value in the next layer).
      expect(data.every(Number.isFinite)).toBe(true);
      let worst = 0;
      let scale = 1;
      for (let b = 0; b < 2; b++) {
        for (let t = 0; t < 9; t++) {
          if (mask[b]![t] === 0) continue; // padded slots' values are not meaningful
          const row = want[b]![t]!;
          for (let i = 0; i < width; i++) {
            scale = Math.max(scale, Math.abs(row[i]!));
            worst = Math.max(worst, Math.abs(data[(b * 9 + t) * width + i]! - row[i]!));
          }
        }
      }
      // float32 rounding: a relative γ_K (K the widest dot product) of the output's scale per
      // layer. Measured worst/bound ≤ 0.3 on every case; a wrong rotary layout, kv-head order,
      // window or norm misses by orders of magnitude more (checked by breaking each).
      const { layers, k } = depth(ck);
      expect(worst).toBeLessThanOrEqual(layers * gammaF32(k) * scale);
    }
    await session.release();
  });
});

test('a weight missing or misshapen is an OnnxExportError naming it', async () => {
  const ck = await load('qwen3', 'F32');
  const lying = (hide: string, reshape: string) => ({
    config: ck.config,
    weights: {
      ...ck.weights,
      names: () => ck.weights.names().filter((n) => n !== hide),
      has: (n: string) => n !== hide && ck.weights.has(n),
      get: (n: string) => {
        const t = ck.weights.get(n);
        return n === reshape ? { ...t, shape: [...t.shape].reverse() } : t;
      },
      f64: (n: string) => ck.weights.f64(n),
    },
  });
  expect(() => exportOnnx(lying('model.layers.1.self_attn.k_norm.weight', ''))).toThrow(
    /k_norm\.weight is missing/,
  );
  expect(() => exportOnnx(lying('', 'model.layers.0.mlp.up_proj.weight'))).toThrow(OnnxExportError);
});

describe("the KV-cache export (Optimum's layout, as transformers.js runs it)", () => {
  /** generate's position ids over a mask row: cumsum(mask) − 1, padded slots 1. */
  const positions = (mask: number[]) => {
    let seen = 0;
    return mask.map((m) => (m === 0 ? 1 : seen++));
  };

  test.each(['llama', 'qwen2', 'qwen3', 'mistral'] as const)(
    '%s: prefill then decode through present → past equals the no-cache graph',
    async (kind) => {
      const ck = await load(kind, 'F32');
      const c = ck.config;
      if (c.family === 'bert' || c.family === 'gpt2') throw new Error('a decoder fixture');
      const plain = exportOnnx(ck);
      const cached = exportOnnx(ck, { cache: true });
      expect(cached.presents).toHaveLength(2 * c.numLayers);
      const [full, inc] = await Promise.all([
        ort.InferenceSession.create(plain.bytes),
        ort.InferenceSession.create(cached.bytes),
      ]);
      // 9 slots (past Mistral's window of 6), row 1 left-padded by 3; fed as 4 + 1 + 2 + 1 + 1.
      const { tokens, mask } = batch(2, 9, c.vocabSize, [0, 3], 'left');
      const want = (await full.run({ input_ids: int64(tokens), attention_mask: int64(mask) }))
        .logits!.data as Float32Array;
      const V = c.vocabSize;
      const hd = c.headDim;
      const empty = (_: string) =>
        new ort.Tensor('float32', new Float32Array(0), [2, c.numKvHeads, 0, hd]);
      let past: Record<string, ort.Tensor> = {};
      for (let l = 0; l < c.numLayers; l++) {
        for (const kv of ['key', 'value'] as const) {
          past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
            2,
            c.numKvHeads,
            0,
            hd,
          ]);
        }
      }
      let worst = 0;
      let at = 0;
      for (const n of [4, 1, 2, 1, 1]) {
        const slice = (g: number[][], from: number, to: number) => g.map((r) => r.slice(from, to));
        const out = await inc.run({
          input_ids: int64(slice(tokens, at, at + n)),
          attention_mask: int64(slice(mask, 0, at + n)),
          position_ids: int64(mask.map((r) => positions(r).slice(at, at + n))),
          num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
          ...past,
        });
        const got = out.logits!;
        expect(got.dims).toEqual([2, n, V]);
        const data = got.data as Float32Array;
        for (let b = 0; b < 2; b++) {
          for (let t = 0; t < n; t++) {
            if (mask[b]![at + t] === 0) continue;
            for (let i = 0; i < V; i++) {
              const d = Math.abs(data[(b * n + t) * V + i]! - want[(b * 9 + at + t) * V + i]!);
              worst = Math.max(worst, d);
            }
          }
        }
        at += n;
        past = {};
        for (let l = 0; l < c.numLayers; l++) {
          for (const kv of ['key', 'value'] as const) {
            const present = out[`present.${l}.${kv}`]!;
            expect(present.dims).toEqual([2, c.numKvHeads, at, hd]);
            past[`past_key_values.${l}.${kv}`] = present;
          }
        }
      }
      // num_logits_to_keep = 1 (generate's feed): the last slot's logits alone, the same values.
      const last = await inc.run({
        input_ids: int64(tokens),
        attention_mask: int64(mask),
        position_ids: int64(mask.map(positions)),
        num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(1n), []),
        ...Object.fromEntries(Object.keys(past).map((k) => [k, empty(k)])),
      });
      expect(last.logits!.dims).toEqual([2, 1, V]);
      const lastData = last.logits!.data as Float32Array;
      for (let b = 0; b < 2; b++) {
        for (let i = 0; i < V; i++) {
          worst = Math.max(worst, Math.abs(lastData[b * V + i]! - want[(b * 9 + 8) * V + i]!));
        }
      }
      // Same float32 ops in another order (concatenated keys): within rounding. A wrong slot
      // offset, window or unrotated past key misses by the logits' own scale (~1).
      expect(worst).toBeLessThan(1e-4);
      await Promise.all([full.release(), inc.release()]);
    },
  );

  test('GPT-2 and BERT have no KV-cache export: an OnnxExportError', async () => {
    const ck = await load('bert', 'F32');
    expect(() => exportOnnx(ck, { cache: true })).toThrow(OnnxExportError);
  });
});

test.each(['qwen2', 'bert'] as const)(
  '%s: the 8-bit export (transformers.js q8 layout) runs in ORT and stays near the float one',
  async (kind) => {
    const ck = await load(kind, 'F32');
    const bert = kind === 'bert';
    const plain = exportOnnx(ck, { cache: !bert });
    const q8 = exportOnnx(ck, { cache: !bert, quantize: 'q8' });
    const a = await ort.InferenceSession.create(plain.bytes);
    const b = await ort.InferenceSession.create(q8.bytes);
    const { tokens, mask, types } = batch(2, 9, ck.config.vocabSize, [0, 0], 'left');
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(tokens),
      attention_mask: int64(mask),
    };
    if (bert) feeds.token_type_ids = int64(types);
    else {
      const c = ck.config as { numLayers: number; numKvHeads: number; headDim: number };
      feeds.position_ids = int64(mask.map((r) => r.map((_, i) => i)));
      feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(0n), []);
      for (let l = 0; l < c.numLayers; l++) {
        for (const kv of ['key', 'value']) {
          feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [
            2,
            c.numKvHeads,
            0,
            c.headDim,
          ]);
        }
      }
    }
    const want = (await a.run(feeds))[plain.output]!.data as Float32Array;
    const got = (await b.run(feeds))[q8.output]!.data as Float32Array;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      scale = Math.max(scale, Math.abs(want[i]!));
    }
    // 8 bits per weight and activation: a few percent of the output's scale, not exact.
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(0.1 * scale);
    await Promise.all([a.release(), b.release()]);
  },
);

test('with external data the model runs in ORT as the inline one does', async () => {
  const ck = await load('llama', 'F32');
  const inline = exportOnnx(ck);
  const split = exportOnnx(ck, { externalData: 'model.onnx_data' });
  // The large weights left the model file.
  expect(split.externalData!.byteLength).toBeGreaterThan(0.5 * inline.bytes.byteLength);
  expect(split.bytes.byteLength).toBeLessThan(0.5 * inline.bytes.byteLength);
  const a = await ort.InferenceSession.create(inline.bytes);
  const b = await ort.InferenceSession.create(split.bytes, {
    externalData: [{ path: 'model.onnx_data', data: split.externalData! }],
  });
  const { tokens, mask } = batch(2, 5, ck.config.vocabSize, [0, 2], 'left');
  const feeds = { input_ids: int64(tokens), attention_mask: int64(mask) };
  const want = (await a.run(feeds)).logits!.data as Float32Array;
  const got = (await b.run(feeds)).logits!.data as Float32Array;
  expect(Array.from(got)).toEqual(Array.from(want));
  await Promise.all([a.release(), b.release()]);
});
