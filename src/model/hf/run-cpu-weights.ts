// Uploads a loaded Hugging Face checkpoint's tensors into the CPU engine's memory in the layout
// CpuHfModel (run-cpu.ts) runs: matrices [out, in] in the dtype the file stores them (16-bit stays
// 16-bit; GPT-2's Conv1D [in, out] matrices transposed once, as bits), norms and biases widened
// to float32, the rotary inverse frequencies (with Llama 3's scaling) as float32.

import { CpuError } from '../../cpu/errors';
import type { CpuKernels, CpuWeightDtype } from '../../cpu/kernels';
import type { Checkpoint } from './checkpoint';
import { llama3InvFreq, rotaryInvFreq } from './reference-decoder';
import type { BertConfig, HfWeights, PoolingConfig } from './types';

export type Ptr = number; // byte offset in the engine's memory

/** A matrix [out, in] as linear16 reads it, in the dtype the file stores it. */
export interface Mat {
  ptr: Ptr;
  dtype: CpuWeightDtype;
}

export type Norm = { w: Ptr; b?: Ptr };
export type Act = 'silu-gate' | 'gelu' | 'tanh' | 'relu';

/** One transformer layer, in the terms all three families share. */
export interface Layer {
  norm1: Norm;
  q: Mat;
  k: Mat;
  v: Mat;
  o: Mat;
  qB: Ptr;
  kB: Ptr;
  vB: Ptr;
  oB: Ptr;
  qNorm?: Ptr;
  kNorm?: Ptr;
  norm2: Norm;
  gate?: Mat;
  gateB: Ptr;
  up: Mat;
  upB: Ptr;
  down: Mat;
  downB: Ptr;
}

/** Everything `load` derives from a checkpoint's config. */
export interface Shape {
  kind: 'decoder' | 'gpt2' | 'bert';
  vocab: number;
  hidden: number;
  inter: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  eps: number;
  act: Act;
  /** Positions a learned table holds (GPT-2, BERT); Infinity for rotary. */
  maxPositions: number;
  slidingWindow?: number;
}

/** A call or checkpoint the engine cannot run: CpuError('invalid-argument'). */
export const bad = (msg: string) => new CpuError('invalid-argument', msg);

export interface Parts {
  shape: Shape;
  layers: Layer[];
  embed: Mat;
  wpe?: Mat;
  types?: Mat;
  embedNorm?: Norm;
  finalNorm?: Norm;
  head?: Mat;
  invFreq: Ptr;
  pooling?: PoolingConfig;
  typeVocab: number;
}

/** Uploads a checkpoint's tensors in the layout CpuHfModel runs. */
export function uploadParts(cpu: CpuKernels, ck: Checkpoint): Parts {
  const w = ck.weights;
  const c = ck.config;
  const shapeOf = (name: string, shape: number[]) => {
    const got = w.has(name) ? w.get(name).shape : undefined;
    if (!got || got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw bad(`tensor ${name} is [${got ?? 'missing'}], expected [${shape}]`);
    }
    return w.get(name);
  };
  const mat = (name: string, out: number, inp: number): Mat => {
    const t = shapeOf(name, [out, inp]);
    return t.dtype === 'F32'
      ? { ptr: cpu.put(t.data as Float32Array), dtype: 'F32' }
      : { ptr: cpu.putBits(t.data as Uint16Array), dtype: t.dtype };
  };
  const vec = (name: string, n: number) => {
    shapeOf(name, [n]);
    return cpu.put(Float32Array.from(w.f64(name)));
  };
  const ln = (p: string, n: number): Norm => ({ w: vec(`${p}.weight`, n), b: vec(`${p}.bias`, n) });
  if (c.family === 'gpt2') {
    const E = c.nEmbd;
    const hd = E / c.nHead;
    if (!Number.isInteger(hd)) throw bad(`n_embd ${E} is not a multiple of n_head ${c.nHead}`);
    const layers = Array.from({ length: c.nLayer }, (_, i): Layer => {
      const p = `h.${i}.`;
      const attn = conv1d(cpu, w, `${p}attn.c_attn.weight`, E, 3 * E);
      const attnB = vec(`${p}attn.c_attn.bias`, 3 * E);
      const width = attn.dtype === 'F32' ? 4 : 2;
      const part = (j: number): Mat => ({ ptr: attn.ptr + j * E * E * width, dtype: attn.dtype });
      return {
        norm1: ln(`${p}ln_1`, E),
        q: part(0),
        k: part(1),
        v: part(2),
        qB: attnB,
        kB: attnB + E * 4,
        vB: attnB + 2 * E * 4,
        o: conv1d(cpu, w, `${p}attn.c_proj.weight`, E, E),
        oB: vec(`${p}attn.c_proj.bias`, E),
        norm2: ln(`${p}ln_2`, E),
        up: conv1d(cpu, w, `${p}mlp.c_fc.weight`, E, c.nInner),
        upB: vec(`${p}mlp.c_fc.bias`, c.nInner),
        down: conv1d(cpu, w, `${p}mlp.c_proj.weight`, c.nInner, E),
        downB: vec(`${p}mlp.c_proj.bias`, E),
        gateB: 0,
      };
    });
    const embed = mat('wte.weight', c.vocabSize, E);
    const act: Act = c.activation === 'gelu' ? 'gelu' : c.activation === 'relu' ? 'relu' : 'tanh';
    return {
      shape: {
        kind: 'gpt2',
        vocab: c.vocabSize,
        hidden: E,
        inter: c.nInner,
        heads: c.nHead,
        kvHeads: c.nHead,
        headDim: hd,
        eps: c.layerNormEpsilon,
        act,
        maxPositions: c.nPositions,
      },
      layers,
      embed,
      wpe: mat('wpe.weight', c.nPositions, E),
      finalNorm: ln('ln_f', E),
      head: embed, // GPT2LMHeadModel ties lm_head to wte
      invFreq: 0,
      typeVocab: 0,
    };
  }
  if (c.family === 'bert') return bertParts(c, mat, vec, ln, ck.pooling);
  const H = c.hiddenSize;
  const qW = c.numHeads * c.headDim;
  const kvW = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const bias = (name: string, n: number, has: boolean) => (has ? vec(`${name}.bias`, n) : 0);
  const layers = Array.from({ length: c.numLayers }, (_, i): Layer => {
    const p = `model.layers.${i}.`;
    const a = `${p}self_attn.`;
    return {
      norm1: { w: vec(`${p}input_layernorm.weight`, H) },
      q: mat(`${a}q_proj.weight`, qW, H),
      qB: bias(`${a}q_proj`, qW, c.attentionBias),
      k: mat(`${a}k_proj.weight`, kvW, H),
      kB: bias(`${a}k_proj`, kvW, c.attentionBias),
      v: mat(`${a}v_proj.weight`, kvW, H),
      vB: bias(`${a}v_proj`, kvW, c.attentionBias),
      o: mat(`${a}o_proj.weight`, H, qW),
      oB: bias(`${a}o_proj`, H, c.outputBias),
      ...(c.qkNorm
        ? { qNorm: vec(`${a}q_norm.weight`, c.headDim), kNorm: vec(`${a}k_norm.weight`, c.headDim) }
        : {}),
      norm2: { w: vec(`${p}post_attention_layernorm.weight`, H) },
      gate: mat(`${p}mlp.gate_proj.weight`, I, H),
      gateB: bias(`${p}mlp.gate_proj`, I, c.mlpBias),
      up: mat(`${p}mlp.up_proj.weight`, I, H),
      upB: bias(`${p}mlp.up_proj`, I, c.mlpBias),
      down: mat(`${p}mlp.down_proj.weight`, H, I),
      downB: bias(`${p}mlp.down_proj`, H, c.mlpBias),
    };
  });
  const embed = mat('model.embed_tokens.weight', c.vocabSize, H);
  const plain = rotaryInvFreq(c.headDim, c.ropeTheta);
  const inv = c.ropeScaling ? llama3InvFreq(plain, c.ropeScaling) : plain;
  return {
    shape: {
      kind: 'decoder',
      vocab: c.vocabSize,
      hidden: H,
      inter: I,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      headDim: c.headDim,
      eps: c.rmsNormEps,
      act: 'silu-gate',
      maxPositions: Number.POSITIVE_INFINITY,
      ...(c.slidingWindow !== undefined ? { slidingWindow: c.slidingWindow } : {}),
    },
    layers,
    embed,
    finalNorm: { w: vec('model.norm.weight', H) },
    head: c.tieWordEmbeddings ? embed : mat('lm_head.weight', c.vocabSize, H),
    invFreq: cpu.put(Float32Array.from(inv)),
    typeVocab: 0,
  };
}

/** A Conv1D weight [in, out] uploaded transposed to [out, in] (linear16's layout), its dtype
 * kept: a 16-bit matrix is transposed as bits. */
function conv1d(cpu: CpuKernels, w: HfWeights, name: string, inp: number, out: number): Mat {
  const t = w.get(name);
  if (t.shape.length !== 2 || t.shape[0] !== inp || t.shape[1] !== out) {
    throw bad(`tensor ${name} is [${t.shape}], expected [${inp},${out}]`);
  }
  const d = t.data;
  const tr = new (d.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(d.length);
  for (let i = 0; i < inp; i++) for (let o = 0; o < out; o++) tr[o * inp + i] = d[i * out + o]!;
  return t.dtype === 'F32'
    ? { ptr: cpu.put(tr as Float32Array), dtype: 'F32' }
    : { ptr: cpu.putBits(tr as Uint16Array), dtype: t.dtype };
}

function bertParts(
  c: BertConfig,
  mat: (name: string, out: number, inp: number) => Mat,
  vec: (name: string, n: number) => Ptr,
  ln: (p: string, n: number) => Norm,
  pooling: PoolingConfig | undefined,
): Parts {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  if (H % c.numHeads !== 0) throw bad(`hidden ${H} is not a multiple of ${c.numHeads} heads`);
  const layers = Array.from({ length: c.numLayers }, (_, i): Layer => {
    const p = `encoder.layer.${i}.`;
    const lin = (n: string, out: number, inp: number) => mat(`${p}${n}.weight`, out, inp);
    const b = (n: string, len: number) => vec(`${p}${n}.bias`, len);
    return {
      norm1: ln(`${p}attention.output.LayerNorm`, H),
      q: lin('attention.self.query', H, H),
      qB: b('attention.self.query', H),
      k: lin('attention.self.key', H, H),
      kB: b('attention.self.key', H),
      v: lin('attention.self.value', H, H),
      vB: b('attention.self.value', H),
      o: lin('attention.output.dense', H, H),
      oB: b('attention.output.dense', H),
      norm2: ln(`${p}output.LayerNorm`, H),
      up: lin('intermediate.dense', I, H),
      upB: b('intermediate.dense', I),
      down: lin('output.dense', H, I),
      downB: b('output.dense', H),
      gateB: 0,
    };
  });
  const act: Act = c.hiddenAct === 'gelu' ? 'gelu' : c.hiddenAct === 'relu' ? 'relu' : 'tanh';
  return {
    shape: {
      kind: 'bert',
      vocab: c.vocabSize,
      hidden: H,
      inter: I,
      heads: c.numHeads,
      kvHeads: c.numHeads,
      headDim: H / c.numHeads,
      eps: c.layerNormEps,
      act,
      maxPositions: c.maxPositions,
    },
    layers,
    embed: mat('embeddings.word_embeddings.weight', c.vocabSize, H),
    wpe: mat('embeddings.position_embeddings.weight', c.maxPositions, H),
    types: mat('embeddings.token_type_embeddings.weight', c.typeVocabSize, H),
    embedNorm: ln('embeddings.LayerNorm', H),
    invFreq: 0,
    ...(pooling ? { pooling } : {}),
    typeVocab: c.typeVocabSize,
  };
}
