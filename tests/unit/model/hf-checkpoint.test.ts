// One file for the loader's tests, as the brief asks: every family × dtype loading, the
// config semantics, and one test per refusal rule; it runs in about two seconds.
import { describe, expect, test } from 'vitest';
import {
  type Checkpoint,
  canonicalName,
  expectedTensors,
  loadCheckpoint,
} from '../../../src/model/hf/checkpoint';
import { parseConfig } from '../../../src/model/hf/config';
import { CheckpointError } from '../../../src/model/hf/errors';
import { filesFromMap } from '../../../src/model/hf/files';
import type { DecoderConfig, Gpt2Config } from '../../../src/model/hf/types';
import { bf16ToF64, f16ToF64 } from '../../../src/model/hf/weights';
import {
  fixtureConfig,
  HF_FIXTURE_KINDS,
  type HfFixtureOptions,
  hfCheckpoint,
  hfCheckpointFiles,
  writeHfSafetensors,
} from '../../support/hf-checkpoints';

const load = (files: Map<string, Uint8Array>) => loadCheckpoint(filesFromMap(files));
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The CheckpointError a bad folder raises; fails the test if it loads. */
async function refusal(files: Map<string, Uint8Array>): Promise<CheckpointError> {
  try {
    await load(files);
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return e as CheckpointError;
  }
  throw new Error('the checkpoint loaded');
}

async function expectRefused(
  files: Map<string, Uint8Array>,
  code: CheckpointError['code'],
  file: string,
  field: string | RegExp,
) {
  const e = await refusal(files);
  expect({ code: e.code, file: e.file }).toEqual({ code, file });
  if (typeof field === 'string') expect(e.field).toBe(field);
  else expect(e.field).toMatch(field);
  expect(e.message).toContain(file);
  if (e.field) expect(e.message).toContain(e.field);
}

/** Every stored tensor's values come back exactly under its canonical name. */
function expectValues(ck: Checkpoint, values: Map<string, Float64Array>) {
  let checked = 0;
  for (const [stored, v] of values) {
    const name = canonicalName(ck.config, stored);
    if (name === null) continue;
    expect(ck.weights.f64(name), name).toEqual(v);
    checked++;
  }
  expect(checked).toBe(ck.weights.names().length);
}

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

describe('bad checkpoints get a typed error naming the file and field', () => {
  const make = (o: Partial<HfFixtureOptions> = {}) => hfCheckpointFiles({ kind: 'llama', ...o });

  test('missing files', async () => {
    const noConfig = make();
    noConfig.delete('config.json');
    await expectRefused(noConfig, 'missing-file', 'config.json', '');
    const noWeights = make();
    noWeights.delete('model.safetensors');
    await expectRefused(noWeights, 'missing-file', 'model.safetensors', '');
    const noShard = make({ shards: 2 });
    noShard.delete('model-00002-of-00002.safetensors');
    await expectRefused(noShard, 'missing-file', 'model-00002-of-00002.safetensors', '');
    const noPooling = hfCheckpointFiles({ kind: 'bert' });
    noPooling.delete('1_Pooling/config.json');
    await expectRefused(noPooling, 'missing-file', '1_Pooling/config.json', '');
  });

  test('unsupported model_type, architectures, activations and rope scaling', async () => {
    await expectRefused(
      make({ config: { model_type: 'gemma' } }),
      'unsupported',
      'config.json',
      'model_type',
    );
    await expectRefused(
      make({ config: { model_type: undefined } }),
      'unsupported',
      'config.json',
      'model_type',
    );
    await expectRefused(
      make({ config: { architectures: ['LlamaForSequenceClassification'] } }),
      'unsupported',
      'config.json',
      'architectures',
    );
    await expectRefused(
      make({ config: { hidden_act: 'gelu' } }),
      'unsupported',
      'config.json',
      'hidden_act',
    );
    await expectRefused(
      make({ config: { rope_scaling: { rope_type: 'yarn', factor: 8 } } }),
      'unsupported',
      'config.json',
      'rope_scaling',
    );
    await expectRefused(
      hfCheckpointFiles({ kind: 'qwen2', config: { use_sliding_window: true } }),
      'unsupported',
      'config.json',
      'use_sliding_window',
    );
    await expectRefused(
      hfCheckpointFiles({ kind: 'gpt2', config: { scale_attn_by_inverse_layer_idx: true } }),
      'unsupported',
      'config.json',
      'scale_attn_by_inverse_layer_idx',
    );
    await expectRefused(
      hfCheckpointFiles({ kind: 'bert', config: { position_embedding_type: 'relative_key' } }),
      'unsupported',
      'config.json',
      'position_embedding_type',
    );
  });

  test('config values missing, of the wrong type or out of range', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ hidden_size: undefined }, 'hidden_size'],
      [{ hidden_size: 32.5 }, 'hidden_size'],
      [{ hidden_size: '32' }, 'hidden_size'],
      [{ num_hidden_layers: 0 }, 'num_hidden_layers'],
      [{ vocab_size: -1 }, 'vocab_size'],
      [{ vocab_size: 2 ** 40 }, 'vocab_size'],
      [{ num_attention_heads: 6 }, 'num_attention_heads'], // 32 % 6
      [{ num_key_value_heads: 3 }, 'num_key_value_heads'], // 4 % 3
      [{ num_key_value_heads: 8 }, 'num_key_value_heads'], // more than heads
      [{ rms_norm_eps: 0 }, 'rms_norm_eps'],
      [{}, 'rope_theta'],
      [{ tie_word_embeddings: 'yes' }, 'tie_word_embeddings'],
      [{ eos_token_id: 64 }, 'eos_token_id'],
      [{ eos_token_id: [2, 'x'] }, 'eos_token_id'],
    ];
    for (const [config, field] of cases) {
      // config.json rewritten over good weights, so no absurd tensor is ever allocated.
      const files = make();
      const json = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
      for (const [k, v] of Object.entries(config)) json[k] = v;
      if (field === 'rope_theta') json.rope_theta = 'big'; // JSON has no NaN
      files.set('config.json', enc(json));
      await expectRefused(files, 'config-value', 'config.json', field);
    }
    const gen = make();
    gen.set('generation_config.json', enc({ top_p: 1.5 }));
    await expectRefused(gen, 'config-value', 'generation_config.json', 'top_p');
    const notJson = make();
    notJson.set('config.json', new TextEncoder().encode('{"model_type": "llama",'));
    await expectRefused(notJson, 'json', 'config.json', '');
    const pool = hfCheckpointFiles({ kind: 'bert' });
    pool.set(
      '1_Pooling/config.json',
      enc({ word_embedding_dimension: 16, pooling_mode_mean_tokens: true }),
    );
    await expectRefused(pool, 'config-value', '1_Pooling/config.json', 'word_embedding_dimension');
    const dense = hfCheckpointFiles({ kind: 'bert' });
    dense.set(
      'modules.json',
      enc([{ path: '2_Dense', type: 'sentence_transformers.models.Dense' }]),
    );
    await expectRefused(dense, 'unsupported', 'modules.json', '[0].type');
  });

  test('missing, unknown, misshapen and doubled tensors', async () => {
    const drop = (name: string) => make({ edit: (ts) => ts.filter((t) => t.name !== name) });
    await expectRefused(
      drop('model.layers.1.mlp.up_proj.weight'),
      'missing-tensor',
      'model.safetensors',
      'model.layers.1.mlp.up_proj.weight',
    );
    await expectRefused(
      drop('lm_head.weight'),
      'missing-tensor',
      'model.safetensors',
      'lm_head.weight',
    );
    const extra = make({
      edit: (ts) => [
        ...ts,
        {
          name: 'model.layers.0.self_attn.q_proj.bias',
          dtype: 'F32',
          shape: [32],
          values: new Float64Array(32),
        },
      ],
    });
    await expectRefused(
      extra,
      'unknown-tensor',
      'model.safetensors',
      'model.layers.0.self_attn.q_proj.bias',
    );
    // Known harmless buffers are skipped, whatever their dtype.
    const buffers = make({
      edit: (ts) => [
        ...ts,
        {
          name: 'model.layers.0.self_attn.rotary_emb.inv_freq',
          dtype: 'F32',
          shape: [4],
          values: new Float64Array(4),
        },
      ],
    });
    expect((await load(buffers)).weights.has('model.layers.0.self_attn.rotary_emb.inv_freq')).toBe(
      false,
    );
    const wrong = make({
      edit: (ts) =>
        ts.map((t) =>
          t.name === 'model.norm.weight'
            ? { ...t, shape: [31], values: t.values.subarray(0, 31) }
            : t,
        ),
    });
    await expectRefused(wrong, 'tensor-shape', 'model.safetensors', 'model.norm.weight');
    const transposed = hfCheckpointFiles({
      kind: 'gpt2',
      edit: (ts) =>
        ts.map((t) =>
          t.name === 'transformer.h.0.mlp.c_fc.weight' ? { ...t, shape: [128, 32] } : t,
        ),
    });
    await expectRefused(
      transposed,
      'tensor-shape',
      'model.safetensors',
      'transformer.h.0.mlp.c_fc.weight',
    );
    // The same tensor under both GPT-2 spellings.
    const both = hfCheckpointFiles({
      kind: 'gpt2',
      edit: (ts) => [
        ...ts,
        { ...ts.find((t) => t.name === 'transformer.wte.weight')!, name: 'wte.weight' },
      ],
    });
    await expectRefused(both, 'duplicate-tensor', 'model.safetensors', /wte\.weight$/);
  });

  test('a tensor twice across shards, or where the index does not put it', async () => {
    const { files } = hfCheckpoint({ kind: 'llama', shards: 2 });
    const two = new Map(files);
    const index = JSON.parse(new TextDecoder().decode(files.get('model.safetensors.index.json')!));
    const first = Object.keys(index.weight_map).find(
      (k) => index.weight_map[k] === 'model-00001-of-00002.safetensors',
    )!;
    // Shard 2 rewritten to hold one of shard 1's tensors as well.
    const ck = hfCheckpoint({ kind: 'llama' });
    const all = [...ck.values.keys()];
    const shardOf = (n: string) => index.weight_map[n] as string;
    const tensorsOf = (shard: string) =>
      all
        .filter((n) => shardOf(n) === shard)
        .map((n) => ({
          name: n,
          dtype: 'F32',
          shape: shapeOf(n, ck.config),
          values: ck.values.get(n)!,
        }));
    two.set(
      'model-00002-of-00002.safetensors',
      writeHfSafetensors([
        ...tensorsOf('model-00002-of-00002.safetensors'),
        ...tensorsOf('model-00001-of-00002.safetensors').filter((t) => t.name === first),
      ]),
    );
    await expectRefused(two, 'duplicate-tensor', 'model-00002-of-00002.safetensors', first);
    // The index says shard 1, the tensor sits in shard 2 only.
    const moved = new Map(files);
    const t2 = tensorsOf('model-00002-of-00002.safetensors');
    moved.set(
      'model-00001-of-00002.safetensors',
      writeHfSafetensors(
        tensorsOf('model-00001-of-00002.safetensors').filter((t) => t.name !== first),
      ),
    );
    moved.set(
      'model-00002-of-00002.safetensors',
      writeHfSafetensors([
        ...t2,
        ...tensorsOf('model-00001-of-00002.safetensors').filter((t) => t.name === first),
      ]),
    );
    await expectRefused(moved, 'unknown-tensor', 'model-00002-of-00002.safetensors', first);
    const outside = new Map(files).set(
      'model.safetensors.index.json',
      enc({ weight_map: { ...index.weight_map, [first]: '../secret.safetensors' } }),
    );
    await expectRefused(outside, 'json', 'model.safetensors.index.json', `weight_map.${first}`);
  });

  test('dtypes other than F32, F16 and BF16', async () => {
    const i8 = make({
      edit: (ts) =>
        ts.map((t) => (t.name === 'model.embed_tokens.weight' ? { ...t, dtype: 'I8' } : t)),
    });
    await expectRefused(i8, 'dtype', 'model.safetensors', 'model.embed_tokens.weight');
    const f64 = make({
      edit: (ts) => ts.map((t) => (t.name === 'model.norm.weight' ? { ...t, dtype: 'F64' } : t)),
    });
    await expectRefused(f64, 'dtype', 'model.safetensors', 'model.norm.weight');
    // A dtype safetensors does not define: the header is refused as it is read.
    const files = make();
    const bytes = files.get('model.safetensors')!.slice();
    const text = new TextDecoder().decode(bytes.subarray(0, 400));
    bytes.set(new TextEncoder().encode('X32'), text.indexOf('"F32"') + 1);
    await expectRefused(
      files.set('model.safetensors', bytes),
      'safetensors',
      'model.safetensors',
      /\./,
    );
  });

  test('malformed safetensors: truncated, bad header', async () => {
    const files = make();
    const good = files.get('model.safetensors')!;
    await expectRefused(
      new Map(files).set('model.safetensors', good.subarray(0, good.length - 3)),
      'safetensors',
      'model.safetensors',
      /./,
    );
    await expectRefused(
      new Map(files).set('model.safetensors', good.subarray(0, 5)),
      'safetensors',
      'model.safetensors',
      '',
    );
    const header = good.slice();
    header[8] = 0x5b; // '[': not an object
    await expectRefused(
      new Map(files).set('model.safetensors', header),
      'safetensors',
      'model.safetensors',
      '',
    );
    const e = await refusal(
      new Map(files).set('model.safetensors', good.subarray(0, good.length - 3)),
    );
    expect((e.cause as Error).name).toBe('SafetensorsError');
  });
});

/** A stored llama tensor's shape, from the config (for hand-built shards). */
function shapeOf(name: string, c: Record<string, unknown>): number[] {
  const d = c.hidden_size as number;
  const kv = (c.num_key_value_heads as number) * (d / (c.num_attention_heads as number));
  const f = c.intermediate_size as number;
  if (/embed_tokens|lm_head/.test(name)) return [c.vocab_size as number, d];
  if (/layernorm|model\.norm/.test(name)) return [d];
  if (/[kv]_proj/.test(name)) return [kv, d];
  if (/[qo]_proj/.test(name)) return [d, d];
  if (/gate_proj|up_proj/.test(name)) return [f, d];
  if (/down_proj/.test(name)) return [d, f];
  throw new Error(name);
}

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
