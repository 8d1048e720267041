// Every Hugging Face family's ONNX export (src/model/hf/onnx-export.ts) run by ONNX Runtime Web's
// wasm backend, against the float64 reference (src/model/hf/reference*.ts) on the same fixture
// checkpoint: two implementations written apart from transformers' modeling code, agreeing
// within float32 rounding on an unpadded and a padded batch.
import * as ort from 'onnxruntime-web/wasm';
import { describe, expect, test } from 'vitest';
import { gammaF32 } from '../../src/gpu/reference';
import { type Checkpoint, loadCheckpoint } from '../../src/model/hf/checkpoint';
import { filesFromMap } from '../../src/model/hf/files';
import { exportOnnx, OnnxExportError } from '../../src/model/hf/onnx-export';
import { bertForward, decoderForward, gpt2Forward } from '../../src/model/hf/reference';
import {
  HF_FIXTURE_KINDS,
  type HfFixtureKind,
  hfCheckpointFiles,
} from '../fixtures/hf-checkpoints';

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

type Case = HfFixtureKind | 'llama3-scaled';

async function load(kind: Case, dtype: 'F32' | 'F16' | 'BF16'): Promise<Checkpoint> {
  const files =
    kind === 'llama3-scaled'
      ? hfCheckpointFiles({
          kind: 'llama',
          dtype,
          seed: 5,
          config: { rope_scaling: LLAMA3_SCALING },
        })
      : hfCheckpointFiles({ kind, dtype, seed: 5 });
  return loadCheckpoint(filesFromMap(files));
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

/** Each fixture with F32 and one 16-bit dtype (both 16-bit dtypes appear across the families). */
const CASES = [...HF_FIXTURE_KINDS, 'llama3-scaled' as const].flatMap((kind) => [
  [kind, 'F32'] as const,
  [kind, /^(gpt2|bert)/.test(kind) ? ('F16' as const) : ('BF16' as const)] as const,
]);

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
