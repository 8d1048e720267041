// The checkpoint loader's tests: every family × dtype loading, the config semantics and the
// accepted forms; the refusal rules, one test each: hf-checkpoint-refusals.test.ts.
import { describe, expect, test } from 'vitest';
import { expectedTensors, loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { parseConfig } from '../../../src/model/hf/config';
import { filesFromMap } from '../../../src/model/hf/files';
import type { DecoderConfig, Gpt2Config } from '../../../src/model/hf/types';
import { bf16ToF64, f16ToF64 } from '../../../src/model/hf/weights';
import {
  enc,
  expectRefused,
  expectValues,
  load,
  refusal,
} from '../../support/hf-checkpoint-checks';
import {
  fixtureConfig,
  HF_FIXTURE_KINDS,
  hfCheckpoint,
  hfCheckpointFiles,
} from '../../support/hf-checkpoints';

describe('loading every family and dtype', () => {
  for (const kind of HF_FIXTURE_KINDS) {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      test(`${kind} ${dtype}`, async () => {
        const { files, values } = hfCheckpoint({ kind, dtype, seed: 7 });
        const ck = await load(files);
        expect(ck.weights.names()).toEqual(
          [...expectedTensors(ck.config, { bertPooler: kind === 'bert' }).keys()].sort(),
        );
        for (const n of ck.weights.names()) {
          const t = ck.weights.get(n);
          expect(t.dtype).toBe(dtype);
          expect(t.data).toBeInstanceOf(dtype === 'F32' ? Float32Array : Uint16Array);
          // A view of the file, not a copy: resident memory stays the file's size.
          expect(t.data.buffer).toBe(files.get('model.safetensors')!.buffer);
        }
        expectValues(ck, values);
        expect(ck.digest).toMatch(/^[0-9a-f]{64}$/);
      });
    }
  }
});

test('configs read as transformers reads them', async () => {
  const llama = (await load(hfCheckpointFiles({ kind: 'llama' }))).config as DecoderConfig;
  expect(llama).toMatchObject({
    family: 'llama',
    headDim: 8,
    numKvHeads: 2,
    tieWordEmbeddings: false,
    attentionBias: false,
    outputBias: false,
    qkNorm: false,
    eosTokenIds: [2],
    bosTokenId: 1,
  });
  expect(llama.slidingWindow).toBeUndefined();
  const tied = await load(hfCheckpointFiles({ kind: 'llama-tied' }));
  expect(tied.weights.has('lm_head.weight')).toBe(false);
  const qwen2 = (await load(hfCheckpointFiles({ kind: 'qwen2' }))).config as DecoderConfig;
  expect(qwen2).toMatchObject({
    attentionBias: true,
    outputBias: false,
    ropeTheta: 1e6,
    tieWordEmbeddings: true,
  });
  const qwen3 = await load(hfCheckpointFiles({ kind: 'qwen3' }));
  expect(qwen3.config).toMatchObject({ headDim: 12, qkNorm: true, eosTokenIds: [2, 3] });
  expect(qwen3.generation.eosTokenIds).toEqual([2, 3]);
  expect((await load(hfCheckpointFiles({ kind: 'mistral' }))).config).toMatchObject({
    slidingWindow: 6,
    numKvHeads: 1,
  });
  const gpt2 = (await load(hfCheckpointFiles({ kind: 'gpt2' }))).config as Gpt2Config;
  expect(gpt2).toMatchObject({
    nInner: 128,
    activation: 'gelu_new',
    layerNormEpsilon: 1e-5,
    eosTokenIds: [63],
  });
  const bert = await load(hfCheckpointFiles({ kind: 'bert' }));
  expect(bert.pooling).toEqual({ mode: 'mean', normalize: true });
  expect(bert.config).toMatchObject({ hiddenAct: 'gelu', typeVocabSize: 2, layerNormEps: 1e-12 });

  // Defaults: absent num_key_value_heads → heads (Llama), absent head_dim → 128 (Qwen3's class
  // default), absent rope_theta → 10000, v5's rope_parameters carries theta.
  const noKv = await load(
    hfCheckpointFiles({
      kind: 'llama',
      config: { num_key_value_heads: undefined },
      edit: (ts) =>
        ts.map((t) =>
          /[kv]_proj/.test(t.name) ? { ...t, shape: [32, 32], values: new Float64Array(1024) } : t,
        ),
    }),
  );
  expect(noKv.config).toMatchObject({ numKvHeads: 4, ropeTheta: 10000 });
  const v5 = await load(
    hfCheckpointFiles({
      kind: 'llama',
      config: {
        rope_theta: undefined,
        rope_parameters: { rope_type: 'default', rope_theta: 500000 },
      },
    }),
  );
  expect(v5.config).toMatchObject({ ropeTheta: 500000 });
  const e = await refusal(hfCheckpointFiles({ kind: 'qwen3', config: { head_dim: undefined } }));
  expect(e).toMatchObject({ code: 'tensor-shape', file: 'model.safetensors' }); // head_dim 128 expected
});

test('generation_config.json overrides config.json eos and reads sampling defaults', async () => {
  const files = hfCheckpointFiles({ kind: 'llama' });
  files.set(
    'generation_config.json',
    enc({ eos_token_id: [2, 5], do_sample: true, temperature: 0.6, top_p: 0.9 }),
  );
  const ck = await load(files);
  expect(ck.generation).toEqual({
    eosTokenIds: [2, 5],
    bosTokenId: 1,
    doSample: true,
    temperature: 0.6,
    topK: 50,
    topP: 0.9,
    repetitionPenalty: 1,
  });
  files.delete('generation_config.json');
  expect((await load(files)).generation).toMatchObject({ eosTokenIds: [2], doSample: false });
});

test('sharded checkpoints load the same tensors and differ only in digest', async () => {
  for (const kind of ['llama', 'gpt2', 'bert'] as const) {
    const one = hfCheckpoint({ kind, dtype: 'BF16', seed: 3 });
    const three = hfCheckpoint({ kind, dtype: 'BF16', seed: 3, shards: 3 });
    expect(three.files.has('model-00003-of-00003.safetensors')).toBe(true);
    const a = await load(one.files);
    const b = await load(three.files);
    expect(b.weights.names()).toEqual(a.weights.names());
    expectValues(b, three.values);
    expect(b.digest).not.toBe(a.digest);
  }
});

test('the digest covers every file the checkpoint is made of, and nothing else', async () => {
  const files = hfCheckpointFiles({ kind: 'bert' });
  const base = (await load(files)).digest;
  expect((await load(new Map(files))).digest).toBe(base);
  const withReadme = new Map(files).set('README.md', enc('hello'));
  expect((await load(withReadme)).digest).toBe(base);
  const withTok = new Map(files).set('tokenizer.json', enc({ model: {} }));
  expect((await load(withTok)).digest).not.toBe(base);
  const pool = new Map(files).set(
    '1_Pooling/config.json',
    enc({
      word_embedding_dimension: 32,
      pooling_mode_mean_tokens: true,
      pooling_mode_cls_token: false,
    }),
  );
  expect((await load(pool)).digest).not.toBe(base);
  const other = hfCheckpointFiles({ kind: 'bert', seed: 2 });
  expect((await load(other)).digest).not.toBe(base);
});

test('16-bit widening is exact: subnormals, infinities, NaN, signed zero', () => {
  expect(f16ToF64(0x0001)).toBe(2 ** -24);
  expect(f16ToF64(0x03ff)).toBe(1023 * 2 ** -24);
  expect(f16ToF64(0x0400)).toBe(2 ** -14);
  expect(f16ToF64(0x3c00)).toBe(1);
  expect(f16ToF64(0xc000)).toBe(-2);
  expect(f16ToF64(0x3555)).toBe(1365 / 4096);
  expect(f16ToF64(0x7bff)).toBe(65504);
  expect(f16ToF64(0x7c00)).toBe(Infinity);
  expect(f16ToF64(0xfc00)).toBe(-Infinity);
  expect(f16ToF64(0x7e00)).toBeNaN();
  expect(Object.is(f16ToF64(0x8000), -0)).toBe(true);
  expect(bf16ToF64(0x3f80)).toBe(1);
  expect(bf16ToF64(0xc0a0)).toBe(-5);
  expect(bf16ToF64(0x0001)).toBe(2 ** -133);
  expect(bf16ToF64(0x7f80)).toBe(Infinity);
  expect(bf16ToF64(0x7fc0)).toBeNaN();
});

test('BERT as BertForMaskedLM saves it: bert. prefix, TF-era gamma/beta, MLM head, no pooler', async () => {
  const plain = hfCheckpoint({ kind: 'bert', dtype: 'F16' });
  const { files, values } = hfCheckpoint({
    kind: 'bert',
    dtype: 'F16',
    config: { architectures: ['BertForMaskedLM'] },
    edit: (ts) => [
      ...ts
        .filter((t) => !t.name.startsWith('pooler.'))
        .map((t) => ({
          ...t,
          name: `bert.${t.name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')}`,
        })),
      { name: 'cls.predictions.bias', dtype: 'F32', shape: [64], values: new Float64Array(64) },
      {
        name: 'bert.embeddings.position_ids',
        dtype: 'I64',
        shape: [1, 40],
        values: new Float64Array(40),
      },
    ],
  });
  const ck = await load(files);
  expect(ck.weights.has('pooler.dense.weight')).toBe(false);
  expect(ck.weights.f64('embeddings.LayerNorm.weight')).toEqual(
    plain.values.get('embeddings.LayerNorm.weight'),
  );
  expect(ck.weights.f64('encoder.layer.1.output.dense.weight')).toEqual(
    values.get('bert.encoder.layer.1.output.dense.weight'),
  );
  // A pooler half present is refused, as is an unknown tensor under the prefix.
  const half = hfCheckpointFiles({
    kind: 'bert',
    edit: (ts) => ts.filter((t) => t.name !== 'pooler.dense.bias'),
  });
  await expectRefused(half, 'missing-tensor', 'model.safetensors', 'pooler.dense.bias');
});

test('other accepted forms: CLS pooling, temperature 0, a model-level inv_freq buffer', async () => {
  const files = hfCheckpointFiles({ kind: 'bert' });
  files.set(
    'modules.json',
    enc([
      { path: '', type: 'sentence_transformers.models.Transformer' },
      { path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ]),
  );
  files.set(
    '1_Pooling/config.json',
    enc({
      word_embedding_dimension: 32,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: false,
    }),
  );
  expect((await load(files)).pooling).toEqual({ mode: 'cls', normalize: false });
  files.set(
    '1_Pooling/config.json',
    enc({
      word_embedding_dimension: 32,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: true,
    }),
  );
  await expectRefused(
    files,
    'unsupported',
    '1_Pooling/config.json',
    'pooling_mode_cls_token, pooling_mode_mean_tokens',
  );
  const llama = hfCheckpointFiles({
    kind: 'llama',
    edit: (ts) => [
      ...ts,
      { name: 'model.rotary_emb.inv_freq', dtype: 'F32', shape: [4], values: new Float64Array(4) },
    ],
  });
  llama.set('generation_config.json', enc({ temperature: 0, do_sample: false }));
  expect((await load(llama)).generation).toMatchObject({ temperature: 0, doSample: false });
});

test('a safetensors header with a repeated key is refused', async () => {
  const files = hfCheckpointFiles({ kind: 'llama' });
  const bytes = files.get('model.safetensors')!;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  // Rename the second tensor's key to the first's (same length: same header size).
  const keys = [...header.matchAll(/"(model\.[^"]+)":/g)].map((m) => m[1]!);
  const a = keys.find((k) => k.endsWith('q_proj.weight'))!;
  const b = keys.find((k) => k.endsWith('k_proj.weight') && k.length === a.length)!;
  const forged = bytes.slice();
  forged.set(new TextEncoder().encode(header.replace(`"${b}"`, `"${a}"`)), 8);
  const e = await refusal(files.set('model.safetensors', forged));
  expect(e).toMatchObject({ code: 'safetensors', file: 'model.safetensors' });
  expect(e.message).toContain(`key "${a}" appears twice`);
});

test('each file is read from the source once, and only the files the checkpoint is made of', async () => {
  const files = hfCheckpointFiles({ kind: 'bert', shards: 2 });
  files.set('README.md', enc('not read')).set('pytorch_model.bin', new Uint8Array(16));
  const inner = filesFromMap(files);
  const reads: string[] = [];
  await loadCheckpoint({
    list: () => inner.list(),
    read: (name) => {
      reads.push(name);
      return inner.read(name);
    },
  });
  expect(reads.sort()).toEqual(
    [
      '1_Pooling/config.json',
      'config.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
      'model.safetensors.index.json',
      'modules.json',
      'sentence_bert_config.json',
    ].sort(),
  );
});

test('a shard at an unaligned offset is copied, not viewed, with the same values', async () => {
  for (const dtype of ['F32', 'F16'] as const) {
    const { files, values } = hfCheckpoint({ kind: 'qwen3', dtype });
    const good = files.get('model.safetensors')!;
    const shifted = new Uint8Array(good.length + 1).subarray(1);
    shifted.set(good);
    files.set('model.safetensors', shifted);
    const ck = await load(files);
    expectValues(ck, values);
    expect(ck.weights.get('model.norm.weight').data.buffer).not.toBe(shifted.buffer);
  }
});

describe("Llama 3's rope scaling", () => {
  const llama3 = {
    rope_type: 'llama3',
    factor: 32,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  };
  test('rope_type llama3 is read into ropeScaling; other kinds and bad values are refused by name', () => {
    const base = fixtureConfig('llama');
    const c = parseConfig({ ...base, rope_scaling: llama3, rope_theta: 500000 });
    expect(c).toMatchObject({
      ropeTheta: 500000,
      ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 },
    });
    expect(parseConfig(base)).not.toHaveProperty('ropeScaling');
    expect(() => parseConfig({ ...base, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(
      expect.objectContaining({ code: 'unsupported', field: 'rope_scaling' }),
    );
    for (const bad of [
      { ...llama3, high_freq_factor: 1 },
      { ...llama3, factor: 0.5 },
      { ...llama3, original_max_position_embeddings: 0 },
    ]) {
      expect(() => parseConfig({ ...base, rope_scaling: bad })).toThrow(
        expect.objectContaining({
          code: 'config-value',
          file: 'config.json',
          field: expect.stringMatching(/^rope_scaling\./),
        }),
      );
    }
  });
});
