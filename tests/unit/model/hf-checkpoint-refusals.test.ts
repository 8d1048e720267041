// The checkpoint loader's refusals, one test per rule: each bad folder is a typed
// CheckpointError naming the file and the field.
import { describe, expect, test } from 'vitest';
import { enc, expectRefused, load, refusal, shapeOf } from '../../support/hf-checkpoint-checks';
import {
  type HfFixtureOptions,
  hfCheckpoint,
  hfCheckpointFiles,
  writeHfSafetensors,
} from '../../support/hf-checkpoints';

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
