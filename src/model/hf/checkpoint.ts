/**
 * Loads a Hugging Face checkpoint folder (config.json, model.safetensors or shards with
 * model.safetensors.index.json, generation_config.json, sentence-transformers' modules.json and
 * pooling config) from a CheckpointFiles source. Everything is checked before a weight is used:
 * the config's values, every shard's layout, every tensor's name, dtype and shape against
 * `expectedTensors(config)`. A bad folder is a CheckpointError naming the file and the field.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { parseConfig, parseGenerationConfig, parseJsonObject } from './config';
import { CheckpointError } from './errors';
import type { CheckpointFiles } from './files';
import { readPooling } from './pooling';
import type { HfFamily, HfGenerationConfig, HfWeights, ModelConfig, PoolingConfig } from './types';
import { makeWeights, type RawTensor, readShard } from './weights';

/** A loaded checkpoint: its checked config and weights, identified by `digest`. */
export interface Checkpoint {
  family: HfFamily;
  config: ModelConfig;
  generation: HfGenerationConfig;
  /** sentence-transformers pooling, when the folder has modules.json. */
  pooling?: PoolingConfig;
  weights: HfWeights;
  /** sha-256 (hex) over DIGEST_FILES present and the shards, in name order; see `digestFiles`. */
  digest: string;
  files: CheckpointFiles;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
/**
 * The files besides the weights that make a checkpoint what it is, digested when present:
 * a changed tokenizer or chat template is a different model to a user. READMEs, .bin/.onnx
 * copies and the like are not read at all.
 */
export const DIGEST_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'modules.json',
  'sentence_bert_config.json', // its max_seq_length truncates what is embedded
] as const;

/** The canonical name and shape of every tensor a family's model needs (types.ts: HfWeights). */
export function expectedTensors(
  config: ModelConfig,
  { bertPooler = false }: { bertPooler?: boolean } = {},
): Map<string, number[]> {
  const m = new Map<string, number[]>();
  if (config.family === 'gpt2') {
    const { nEmbd: d, nInner: f, nLayer } = config;
    m.set('wte.weight', [config.vocabSize, d]);
    m.set('wpe.weight', [config.nPositions, d]);
    for (let i = 0; i < nLayer; i++) {
      const p = `h.${i}.`;
      // Conv1D stores weights as (in, out), the transpose of nn.Linear.
      for (const ln of ['ln_1', 'ln_2']) {
        m.set(`${p}${ln}.weight`, [d]);
        m.set(`${p}${ln}.bias`, [d]);
      }
      m.set(`${p}attn.c_attn.weight`, [d, 3 * d]);
      m.set(`${p}attn.c_attn.bias`, [3 * d]);
      m.set(`${p}attn.c_proj.weight`, [d, d]);
      m.set(`${p}attn.c_proj.bias`, [d]);
      m.set(`${p}mlp.c_fc.weight`, [d, f]);
      m.set(`${p}mlp.c_fc.bias`, [f]);
      m.set(`${p}mlp.c_proj.weight`, [f, d]);
      m.set(`${p}mlp.c_proj.bias`, [d]);
    }
    m.set('ln_f.weight', [d]);
    m.set('ln_f.bias', [d]);
    return m;
  }
  if (config.family === 'bert') {
    const { hiddenSize: d, intermediateSize: f } = config;
    const linear = (name: string, out: number, inp: number) => {
      m.set(`${name}.weight`, [out, inp]);
      m.set(`${name}.bias`, [out]);
    };
    const norm = (name: string) => {
      m.set(`${name}.weight`, [d]);
      m.set(`${name}.bias`, [d]);
    };
    m.set('embeddings.word_embeddings.weight', [config.vocabSize, d]);
    m.set('embeddings.position_embeddings.weight', [config.maxPositions, d]);
    m.set('embeddings.token_type_embeddings.weight', [config.typeVocabSize, d]);
    norm('embeddings.LayerNorm');
    for (let i = 0; i < config.numLayers; i++) {
      const p = `encoder.layer.${i}.`;
      for (const x of ['query', 'key', 'value']) linear(`${p}attention.self.${x}`, d, d);
      linear(`${p}attention.output.dense`, d, d);
      norm(`${p}attention.output.LayerNorm`);
      linear(`${p}intermediate.dense`, f, d);
      linear(`${p}output.dense`, d, f);
      norm(`${p}output.LayerNorm`);
    }
    if (bertPooler) linear('pooler.dense', d, d);
    return m;
  }
  const c = config;
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const linear = (name: string, out: number, inp: number, bias: boolean) => {
    m.set(`${name}.weight`, [out, inp]);
    if (bias) m.set(`${name}.bias`, [out]);
  };
  m.set('model.embed_tokens.weight', [c.vocabSize, d]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(`${p}input_layernorm.weight`, [d]);
    linear(`${p}self_attn.q_proj`, q, d, c.attentionBias);
    linear(`${p}self_attn.k_proj`, kv, d, c.attentionBias);
    linear(`${p}self_attn.v_proj`, kv, d, c.attentionBias);
    linear(`${p}self_attn.o_proj`, d, q, c.outputBias);
    if (c.qkNorm) {
      m.set(`${p}self_attn.q_norm.weight`, [c.headDim]);
      m.set(`${p}self_attn.k_norm.weight`, [c.headDim]);
    }
    m.set(`${p}post_attention_layernorm.weight`, [d]);
    linear(`${p}mlp.gate_proj`, c.intermediateSize, d, c.mlpBias);
    linear(`${p}mlp.up_proj`, c.intermediateSize, d, c.mlpBias);
    linear(`${p}mlp.down_proj`, d, c.intermediateSize, c.mlpBias);
  }
  m.set('model.norm.weight', [d]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, d]);
  return m;
}

/**
 * A file's tensor name → its canonical name, or null for a tensor Hugging Face's model class
 * ignores on load (buffers saved by old versions, heads the base model does not have, a tied
 * head's stored copy), or the name unchanged when the architecture does not know it.
 */
export function canonicalName(config: ModelConfig, name: string): string | null {
  if (config.family === 'gpt2') {
    const n = name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
    // Causal-mask buffers (`attn.bias`, `attn.masked_bias`) and the tied head's copy.
    if (/^h\.\d+\.attn\.(bias|masked_bias)$/.test(n) || n === 'lm_head.weight') return null;
    return n;
  }
  if (config.family === 'bert') {
    let n = name.startsWith('bert.') ? name.slice('bert.'.length) : name;
    if (n === 'embeddings.position_ids' || name.startsWith('cls.')) return null;
    // transformers renames TF-era LayerNorm.gamma/beta on load.
    n = n
      .replace(/LayerNorm\.gamma$/, 'LayerNorm.weight')
      .replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    return n;
  }
  // Rotary inverse frequencies: a buffer older transformers saved per layer (or once).
  if (/^model\.(layers\.\d+\.self_attn\.)?rotary_emb\.inv_freq$/.test(name)) return null;
  if (config.tieWordEmbeddings && name === 'lm_head.weight') return null;
  return name;
}

/** Loads and checks a checkpoint; see the module comment. */
export async function loadCheckpoint(source: CheckpointFiles): Promise<Checkpoint> {
  const present = new Set(source.list());
  // Each file is fetched once (a URL source downloads it) and digested from that copy.
  const fetched = new Map<string, Promise<Uint8Array>>();
  const files: CheckpointFiles = {
    list: () => source.list(),
    read: (name) => {
      let p = fetched.get(name);
      if (!p) {
        p = source.read(name);
        fetched.set(name, p);
      }
      return p;
    },
  };
  const readJson = async (name: string) => parseJsonObject(name, await files.read(name));
  if (!present.has('config.json')) {
    throw new CheckpointError('missing-file', 'config.json', '', 'the folder has no config.json');
  }
  const config = parseConfig(await readJson('config.json'));
  const generation = parseGenerationConfig(
    present.has('generation_config.json') ? await readJson('generation_config.json') : {},
    config,
  );
  const pooling = present.has('modules.json') ? await readPooling(files, config) : undefined;
  // Like transformers, a single model.safetensors wins over an index beside it.
  const index = present.has(SINGLE_FILE) ? undefined : await readIndex(present, readJson);
  const shardNames = index ? [...new Set(index.values())].sort() : [SINGLE_FILE];
  const shards = new Map<string, Uint8Array>();
  for (const name of shardNames) shards.set(name, await files.read(name));
  const raw = checkWeights(config, shards, index);
  const digested = [
    ...DIGEST_FILES.filter((n) => present.has(n)),
    ...(pooling?.files ?? []),
    ...(index ? [INDEX_FILE] : []),
    ...shardNames,
  ];
  return {
    family: config.family,
    config,
    generation,
    ...(pooling ? { pooling: pooling.config } : {}),
    weights: makeWeights(raw),
    digest: await digestFiles(files, digested),
    files: source,
  };
}

/**
 * sha-256, hex, over the named files sorted by name (JavaScript string order), each framed as
 * its UTF-8 name's length (4 bytes LE), the name, its length (8 bytes LE) and its bytes, so no
 * two different folders frame to the same stream.
 */
export async function digestFiles(
  files: CheckpointFiles,
  names: readonly string[],
): Promise<string> {
  const h = sha256.create();
  for (const name of [...new Set(names)].sort()) {
    const n = new TextEncoder().encode(name);
    const bytes = await files.read(name);
    const frame = new DataView(new ArrayBuffer(12));
    frame.setUint32(0, n.length, true);
    frame.setBigUint64(4, BigInt(bytes.byteLength), true);
    h.update(new Uint8Array(frame.buffer, 0, 4));
    h.update(n);
    h.update(new Uint8Array(frame.buffer, 4, 8));
    h.update(bytes);
  }
  return [...h.digest()].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** model.safetensors.index.json's weight_map (tensor name → shard), every shard present. */
async function readIndex(
  present: ReadonlySet<string>,
  readJson: (name: string) => Promise<Record<string, unknown>>,
): Promise<Map<string, string>> {
  if (!present.has(INDEX_FILE)) {
    throw new CheckpointError(
      'missing-file',
      SINGLE_FILE,
      '',
      `the folder has neither ${SINGLE_FILE} nor ${INDEX_FILE}`,
    );
  }
  const json = await readJson(INDEX_FILE);
  const map = json.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new CheckpointError('json', INDEX_FILE, 'weight_map', 'must be an object');
  }
  const index = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    const field = `weight_map.${tensor}`;
    // A shard is a plain file of the folder: no path out of it, no index pointing at itself.
    if (typeof shard !== 'string' || !/^[^/\\]+\.safetensors$/.test(shard)) {
      throw new CheckpointError(
        'json',
        INDEX_FILE,
        field,
        `${JSON.stringify(shard)} is not a shard name`,
      );
    }
    if (!present.has(shard)) {
      throw new CheckpointError(
        'missing-file',
        shard,
        '',
        `${INDEX_FILE} lists it (${tensor}) but the folder has no such file`,
      );
    }
    index.set(tensor, shard);
  }
  if (index.size === 0) throw new CheckpointError('json', INDEX_FILE, 'weight_map', 'is empty');
  return index;
}

/**
 * Reads every shard's layout and checks the tensors against the architecture: each stored once,
 * where the index says, none unknown, every needed one present as F32/F16/BF16 in its shape.
 * No tensor's data is decoded here.
 */
function checkWeights(
  config: ModelConfig,
  shards: ReadonlyMap<string, Uint8Array>,
  index: ReadonlyMap<string, string> | undefined,
): Map<string, RawTensor> {
  const seen = new Map<string, string>(); // stored name → shard
  const found = new Map<string, { raw: RawTensor; file: string }>(); // canonical name →
  for (const [file, bytes] of shards) {
    for (const t of readShard(file, bytes)) {
      const first = seen.get(t.name);
      if (first !== undefined) {
        throw new CheckpointError('duplicate-tensor', file, t.name, `also stored in ${first}`);
      }
      seen.set(t.name, file);
      if (index && index.get(t.name) !== file) {
        const where = index.get(t.name);
        const why = where ? `${INDEX_FILE} places it in ${where}` : `not in ${INDEX_FILE}`;
        throw new CheckpointError('unknown-tensor', file, t.name, why);
      }
      const name = canonicalName(config, t.name);
      if (name === null) continue;
      const other = found.get(name);
      if (other) {
        throw new CheckpointError(
          'duplicate-tensor',
          file,
          t.name,
          `the same tensor as ${other.raw.name} in ${other.file}`,
        );
      }
      found.set(name, { raw: t, file });
    }
  }
  for (const [tensor, shard] of index ?? []) {
    if (seen.get(tensor) !== shard) {
      throw new CheckpointError(
        'missing-tensor',
        shard,
        tensor,
        `${INDEX_FILE} places it here but the shard lacks it`,
      );
    }
  }
  const bertPooler =
    config.family === 'bert' &&
    (found.has('pooler.dense.weight') || found.has('pooler.dense.bias'));
  const expected = expectedTensors(config, { bertPooler });
  for (const [name, { raw, file }] of found) {
    if (!expected.has(name)) {
      throw new CheckpointError(
        'unknown-tensor',
        file,
        raw.name,
        `a ${config.family} model has no tensor ${name}`,
      );
    }
  }
  const weightsFile = index ? INDEX_FILE : SINGLE_FILE;
  const out = new Map<string, RawTensor>();
  for (const [name, shape] of expected) {
    const f = found.get(name);
    if (!f) {
      throw new CheckpointError(
        'missing-tensor',
        weightsFile,
        name,
        `a ${config.family} model needs it, shape [${shape}]`,
      );
    }
    const { raw, file } = f;
    if (raw.dtype !== 'F32' && raw.dtype !== 'F16' && raw.dtype !== 'BF16') {
      throw new CheckpointError('dtype', file, raw.name, `${raw.dtype} (F32, F16 or BF16 only)`);
    }
    if (raw.shape.length !== shape.length || raw.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(
        'tensor-shape',
        file,
        raw.name,
        `shape [${raw.shape}], config.json implies [${shape}]`,
      );
    }
    out.set(name, { ...raw, name });
  }
  return out;
}
