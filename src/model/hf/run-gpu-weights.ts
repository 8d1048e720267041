// Uploads a loaded Hugging Face checkpoint's tensors to the GPU in the layout GpuHfModel
// (run-gpu.ts) runs: every matrix in its file's width (16-bit stays 16-bit), GPT-2's fused
// c_attn split into q/k/v Conv1D weights (columns copied, width kept) so k and v land apart,
// the rotary table as turns. Split out of run-gpu.ts.

import type { GpuContext } from '../../gpu/context';
import { GpuError } from '../../gpu/errors';
import { type GpuWeights, rotaryTurns, storageBuffer, uploadWeights } from '../../gpu/hf/tensors';
import type { Checkpoint } from './checkpoint';
import { llama3InvFreq, rotaryInvFreq } from './reference-decoder';
import type { HfTensor } from './types';

export type Act = 'tanh' | 'erf';
export type Layer = Record<string, GpuWeights | undefined>;

/** What a call or checkpoint the GPU path cannot run raises. */
export function bad(message: string): GpuError {
  return new GpuError('invalid-argument', message);
}

/** The GPU kernel of a config's activation name. */
export function activation(name: string): Act {
  if (name === 'gelu_new' || name === 'gelu_pytorch_tanh') return 'tanh';
  if (name === 'gelu') return 'erf';
  throw bad(`activation ${name} has no GPU kernel`);
}

/** Columns [from, from + n) of a row-major [rows, cols] tensor, in its own width. */
function columns(t: HfTensor, from: number, n: number): Float32Array | Uint16Array {
  const [rows, cols] = t.shape.length === 2 ? (t.shape as [number, number]) : [1, t.shape[0]!];
  const out =
    t.data instanceof Float32Array ? new Float32Array(rows * n) : new Uint16Array(rows * n);
  for (let r = 0; r < rows; r++)
    out.set(t.data.subarray(r * cols + from, r * cols + from + n), r * n);
  return out;
}

/** A checkpoint's weights on the GPU: named tensors, per-layer tensors, the rotary table. */
export interface GpuParts {
  w: Record<string, GpuWeights>;
  layers: Layer[];
  turns?: GPUBuffer;
}

/** Uploads the weights; every buffer made is pushed on `owned` (destroyed by the caller, also
 * when this throws half-way). */
export function uploadGpuParts(
  ctx: GpuContext,
  checkpoint: Checkpoint,
  owned: GPUBuffer[],
): GpuParts {
  const put = (data: Float32Array | Uint16Array, format: HfTensor['dtype'], label: string) => {
    const w = uploadWeights(ctx, format, data, label);
    owned.push(w.buffer);
    return w;
  };
  const get = (name: string) => {
    const t = checkpoint.weights.get(name);
    return put(t.data, t.dtype, name);
  };
  // A zero table of one row of `dim` in `like`'s format (an embedding term that adds 0).
  const zeros = (like: GpuWeights, dim: number, label: string) =>
    put(like.format === 'F32' ? new Float32Array(dim) : new Uint16Array(dim), like.format, label);
  const c = checkpoint.config;
  const w: Record<string, GpuWeights> = {};
  const layers: Layer[] = [];
  if (c.family === 'gpt2') {
    activation(c.activation);
    w.word = get('wte.weight');
    w.position = get('wpe.weight');
    w.type = zeros(w.word, c.nEmbd, 'no token types');
    w.finalNorm = get('ln_f.weight');
    w.finalBias = get('ln_f.bias');
    w.head = w.word;
    const E = c.nEmbd;
    for (let i = 0; i < c.nLayer; i++) {
      const p = `h.${i}.`;
      const attn = checkpoint.weights.get(`${p}attn.c_attn.weight`);
      const bias = checkpoint.weights.get(`${p}attn.c_attn.bias`);
      const part = (j: number, what: string) => ({
        [what]: put(columns(attn, j * E, E), attn.dtype, `${p}${what}`),
        [`${what}b`]: put(columns(bias, j * E, E), bias.dtype, `${p}${what}.bias`),
      });
      layers.push({
        ...part(0, 'q'),
        ...part(1, 'k'),
        ...part(2, 'v'),
        ln1: get(`${p}ln_1.weight`),
        ln1b: get(`${p}ln_1.bias`),
        o: get(`${p}attn.c_proj.weight`),
        ob: get(`${p}attn.c_proj.bias`),
        ln2: get(`${p}ln_2.weight`),
        ln2b: get(`${p}ln_2.bias`),
        up: get(`${p}mlp.c_fc.weight`),
        upb: get(`${p}mlp.c_fc.bias`),
        down: get(`${p}mlp.c_proj.weight`),
        downb: get(`${p}mlp.c_proj.bias`),
      });
    }
    return { w, layers };
  }
  if (c.family === 'bert') {
    activation(c.hiddenAct);
    w.word = get('embeddings.word_embeddings.weight');
    w.position = get('embeddings.position_embeddings.weight');
    w.type = get('embeddings.token_type_embeddings.weight');
    w.embNorm = get('embeddings.LayerNorm.weight');
    w.embBias = get('embeddings.LayerNorm.bias');
    for (let i = 0; i < c.numLayers; i++) {
      const p = `encoder.layer.${i}.`;
      const g = (n: string) => get(`${p}${n}`);
      layers.push({
        q: g('attention.self.query.weight'),
        qb: g('attention.self.query.bias'),
        k: g('attention.self.key.weight'),
        kb: g('attention.self.key.bias'),
        v: g('attention.self.value.weight'),
        vb: g('attention.self.value.bias'),
        o: g('attention.output.dense.weight'),
        ob: g('attention.output.dense.bias'),
        ln1: g('attention.output.LayerNorm.weight'),
        ln1b: g('attention.output.LayerNorm.bias'),
        up: g('intermediate.dense.weight'),
        upb: g('intermediate.dense.bias'),
        down: g('output.dense.weight'),
        downb: g('output.dense.bias'),
        ln2: g('output.LayerNorm.weight'),
        ln2b: g('output.LayerNorm.bias'),
      });
    }
    return { w, layers };
  }
  w.word = get('model.embed_tokens.weight');
  w.position = zeros(w.word, c.hiddenSize, 'no positions');
  w.type = zeros(w.word, c.hiddenSize, 'no token types');
  w.finalNorm = get('model.norm.weight');
  // LlamaForCausalLM ties lm_head to embed_tokens when tie_word_embeddings.
  w.head = c.tieWordEmbeddings ? w.word : get('lm_head.weight');
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const g = (n: string, has = true) => (has ? get(`${p}${n}`) : undefined);
    layers.push({
      inNorm: g('input_layernorm.weight'),
      q: g('self_attn.q_proj.weight'),
      qb: g('self_attn.q_proj.bias', c.attentionBias),
      k: g('self_attn.k_proj.weight'),
      kb: g('self_attn.k_proj.bias', c.attentionBias),
      v: g('self_attn.v_proj.weight'),
      vb: g('self_attn.v_proj.bias', c.attentionBias),
      o: g('self_attn.o_proj.weight'),
      ob: g('self_attn.o_proj.bias', c.outputBias),
      qNorm: g('self_attn.q_norm.weight', c.qkNorm),
      kNorm: g('self_attn.k_norm.weight', c.qkNorm),
      postNorm: g('post_attention_layernorm.weight'),
      gate: g('mlp.gate_proj.weight'),
      gateb: g('mlp.gate_proj.bias', c.mlpBias),
      up: g('mlp.up_proj.weight'),
      upb: g('mlp.up_proj.bias', c.mlpBias),
      down: g('mlp.down_proj.weight'),
      downb: g('mlp.down_proj.bias', c.mlpBias),
    });
  }
  const plain = rotaryInvFreq(c.headDim, c.ropeTheta);
  const inv = c.ropeScaling ? llama3InvFreq(plain, c.ropeScaling) : plain;
  const table = rotaryTurns(inv);
  const turns = storageBuffer(ctx, table.byteLength, 'rotary turns');
  owned.push(turns);
  ctx.device.queue.writeBuffer(turns, 0, table);
  return { w, layers, turns };
}
