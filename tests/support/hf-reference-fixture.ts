// Tiny Hugging Face models for the float64 reference's tests (tests/unit/model/hf-reference
// .test.ts): each family's config and tiny-weight builder, and HF_GOLDEN, the values Hugging
// Face's own modeling code computed on exactly these weights (they stay beside them).
import type {
  BertConfig,
  DecoderConfig,
  Gpt2Config,
  HfTensor,
  HfWeights,
} from '../../src/model/hf/types';
import { seededRng } from '../../src/model/rng';

// Tiny random weights through a minimal HfWeights over a Map, so these tests stand on nothing
// but the reference itself (the checkpoint loader is tested on its own).
export class MapWeights implements HfWeights {
  constructor(readonly map: Map<string, { shape: number[]; data: Float64Array }>) {}
  names() {
    return [...this.map.keys()];
  }
  has(name: string) {
    return this.map.has(name);
  }
  get(name: string): HfTensor {
    const t = this.map.get(name)!;
    return { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.data) };
  }
  f64(name: string) {
    return this.map.get(name)!.data;
  }
}

/** Random float32-representable values: norm gains near 1, everything else small. */
export function randomWeights(shapes: Record<string, number[]>, seed: number): MapWeights {
  const rng = seededRng(seed);
  const map = new Map<string, { shape: number[]; data: Float64Array }>();
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const gain = /norm|LayerNorm\.weight|ln_\w+\.weight/.test(name) && shape.length === 1;
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = rng.nextUint32() / 2 ** 31 - 1;
      data[i] = Math.fround(gain && !name.endsWith('.bias') ? 1 + 0.2 * r : 0.4 * r);
    }
    map.set(name, { shape, data });
  }
  return new MapWeights(map);
}

export function decoderShapes(c: DecoderConfig): Record<string, number[]> {
  const H = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const s: Record<string, number[]> = {
    'model.embed_tokens.weight': [c.vocabSize, H],
    'model.norm.weight': [H],
  };
  if (!c.tieWordEmbeddings) s['lm_head.weight'] = [c.vocabSize, H];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    Object.assign(s, {
      [`${p}input_layernorm.weight`]: [H],
      [`${p}self_attn.q_proj.weight`]: [q, H],
      [`${p}self_attn.k_proj.weight`]: [kv, H],
      [`${p}self_attn.v_proj.weight`]: [kv, H],
      [`${p}self_attn.o_proj.weight`]: [H, q],
      [`${p}post_attention_layernorm.weight`]: [H],
      [`${p}mlp.gate_proj.weight`]: [c.intermediateSize, H],
      [`${p}mlp.up_proj.weight`]: [c.intermediateSize, H],
      [`${p}mlp.down_proj.weight`]: [H, c.intermediateSize],
    });
    if (c.attentionBias) {
      Object.assign(s, {
        [`${p}self_attn.q_proj.bias`]: [q],
        [`${p}self_attn.k_proj.bias`]: [kv],
        [`${p}self_attn.v_proj.bias`]: [kv],
      });
    }
    if (c.outputBias) s[`${p}self_attn.o_proj.bias`] = [H];
    if (c.mlpBias) {
      Object.assign(s, {
        [`${p}mlp.gate_proj.bias`]: [c.intermediateSize],
        [`${p}mlp.up_proj.bias`]: [c.intermediateSize],
        [`${p}mlp.down_proj.bias`]: [H],
      });
    }
    if (c.qkNorm) {
      s[`${p}self_attn.q_norm.weight`] = [c.headDim];
      s[`${p}self_attn.k_norm.weight`] = [c.headDim];
    }
  }
  return s;
}

const base = {
  vocabSize: 23,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 4,
  rmsNormEps: 1e-6,
  ropeTheta: 10_000,
  maxPositions: 64,
  tieWordEmbeddings: false,
  attentionBias: false,
  mlpBias: false,
  outputBias: false,
  qkNorm: false,
  eosTokenIds: [1],
};
export const FAMILIES: Record<string, DecoderConfig> = {
  llama: {
    ...base,
    family: 'llama',
    tieWordEmbeddings: true,
    attentionBias: true,
    outputBias: true,
    mlpBias: true,
  },
  qwen2: { ...base, family: 'qwen2', numKvHeads: 1, attentionBias: true, ropeTheta: 1e6 },
  qwen3: { ...base, family: 'qwen3', headDim: 8, qkNorm: true, tieWordEmbeddings: true },
  mistral: { ...base, family: 'mistral', slidingWindow: 3 },
};

export const GPT2: Gpt2Config = {
  family: 'gpt2',
  vocabSize: 37,
  nPositions: 24,
  nEmbd: 64,
  nLayer: 2,
  nHead: 4,
  nInner: 128,
  layerNormEpsilon: 1e-5,
  activation: 'gelu_new',
  eosTokenIds: [0],
};

export function gpt2Shapes(c: Gpt2Config): Record<string, number[]> {
  const E = c.nEmbd;
  const s: Record<string, number[]> = {
    'wte.weight': [c.vocabSize, E],
    'wpe.weight': [c.nPositions, E],
    'ln_f.weight': [E],
    'ln_f.bias': [E],
  };
  for (let i = 0; i < c.nLayer; i++) {
    Object.assign(s, {
      [`h.${i}.ln_1.weight`]: [E],
      [`h.${i}.ln_1.bias`]: [E],
      [`h.${i}.attn.c_attn.weight`]: [E, 3 * E],
      [`h.${i}.attn.c_attn.bias`]: [3 * E],
      [`h.${i}.attn.c_proj.weight`]: [E, E],
      [`h.${i}.attn.c_proj.bias`]: [E],
      [`h.${i}.ln_2.weight`]: [E],
      [`h.${i}.ln_2.bias`]: [E],
      [`h.${i}.mlp.c_fc.weight`]: [E, c.nInner],
      [`h.${i}.mlp.c_fc.bias`]: [c.nInner],
      [`h.${i}.mlp.c_proj.weight`]: [c.nInner, E],
      [`h.${i}.mlp.c_proj.bias`]: [E],
    });
  }
  return s;
}

export const BERT: BertConfig = {
  family: 'bert',
  vocabSize: 30,
  hiddenSize: 16,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 32,
  maxPositions: 16,
  typeVocabSize: 2,
  layerNormEps: 1e-12,
  hiddenAct: 'gelu',
};
export function bertShapes(c: BertConfig): Record<string, number[]> {
  const shapes: Record<string, number[]> = {
    'embeddings.word_embeddings.weight': [c.vocabSize, 16],
    'embeddings.position_embeddings.weight': [c.maxPositions, 16],
    'embeddings.token_type_embeddings.weight': [c.typeVocabSize, 16],
    'embeddings.LayerNorm.weight': [16],
    'embeddings.LayerNorm.bias': [16],
  };
  for (let i = 0; i < c.numLayers; i++) {
    const p = `encoder.layer.${i}.`;
    for (const n of [
      'attention.self.query',
      'attention.self.key',
      'attention.self.value',
      'attention.output.dense',
    ]) {
      shapes[`${p}${n}.weight`] = [16, 16];
      shapes[`${p}${n}.bias`] = [16];
    }
    shapes[`${p}intermediate.dense.weight`] = [32, 16];
    shapes[`${p}intermediate.dense.bias`] = [32];
    shapes[`${p}output.dense.weight`] = [16, 32];
    shapes[`${p}output.dense.bias`] = [16];
    for (const n of ['attention.output.LayerNorm', 'output.LayerNorm']) {
      shapes[`${p}${n}.weight`] = [16];
      shapes[`${p}${n}.bias`] = [16];
    }
  }
  return shapes;
}

/**
 * What Hugging Face's own modeling code (transformers 4.57.6, torch 2.13 CPU, float64, sdpa
 * attention) outputs on this file's tiny weights: for each causal model the left-padded batch
 * [[3, 9, 4, 17, 2, 11, 5, 8], [pad ×3, 6, 1, 12, 7, 20]] with generate's position ids, logits
 * 0–5 at sequence 0's last token, sequence 1's last token and sequence 1's first real token; for
 * BERT hidden values 0–5 of [[2, 7, 19, 4, 11], [2, 25, 3, pad, pad]] (token types
 * [[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]]) at tokens (0, 0), (1, 0), (1, 2). Hugging Face computes
 * RMSNorm and rotary angles in float32 even in a float64 model; those two were run in float64
 * for these values (they move logits by ~1e-6), so what is left to differ is semantics.
 */
export const HF_GOLDEN: Record<string, number[][]> = {
  llama: [
    [
      -1.2794705351060065, -1.2094342579179498, -0.34893579720186263, 0.4364198898096018,
      0.499742458212916, -0.36406816651436574,
    ],
    [
      -1.4182222661508308, -0.8761078471396476, -0.27243415025841816, 0.39952936112673026,
      -0.6209203302348268, 1.2435524541396605,
    ],
    [
      -1.4411581910505467, -1.42952023145485, -1.3089764264886452, -0.29683438007317553,
      0.4871073764509778, 1.6423546562501332,
    ],
  ],
  qwen2: [
    [
      -0.9594402475662459, 0.3485736501768586, 0.18494363143139503, -0.6257659903189944,
      0.4348330387095873, -2.0992934325467236,
    ],
    [
      0.23150393611477874, -1.123321144862104, -2.382252266587373, 0.0876793888324073,
      0.1976262470957491, 0.43226166427777085,
    ],
    [
      0.9307582511026121, -1.1171281024412463, -0.9787217895443839, 0.2065478429708654,
      0.08172248924111229, 0.5324429754204333,
    ],
  ],
  qwen3: [
    [
      0.16646440729996317, 0.6415685449463918, -0.2639375887128617, -0.4005959871248954,
      -1.6901794891906419, 0.17205491785522972,
    ],
    [
      -0.7207526970340938, -0.5825960876264277, -0.41063960075988176, -0.49487966608354267,
      0.6028363728676613, -0.3355741049253678,
    ],
    [
      -0.22946667652759192, -0.6255552669704271, -1.3302427537979773, -0.17872807116255596,
      1.110694438977443, -0.4483875642924817,
    ],
  ],
  mistral: [
    [
      1.6404712015935585, -1.2789709471990969, 0.08622378460301523, -0.18884942364756793,
      0.21588308317970348, -1.7371745371287097,
    ],
    [
      -0.9098612058067143, 0.19359721084628106, -0.6269474340688727, -0.7007437458108788,
      -0.7138750740624351, 0.47850281795196853,
    ],
    [
      -0.2218991016039189, 1.3314963274320555, -0.8420402145498905, 0.4011228566318186,
      0.9219276771247192, -0.04902005416780547,
    ],
  ],
  gpt2: [
    [
      1.0116552676100752, -0.5494240095524158, 2.2359343126691598, 0.27332712525430447,
      2.099813419032452, 1.755593644515663,
    ],
    [
      -0.15036517004211122, -2.5595653359640314, -0.5352841802677617, 1.0543885312593944,
      -2.3797349444622804, -1.2040329936748677,
    ],
    [
      -0.42680226385373227, -0.9549458243596867, -1.3717842400813223, 2.3031126153126924,
      -1.857323581524241, 0.9102936960421124,
    ],
  ],
  bert: [
    [
      0.35407169781641934, 1.6955409594025297, -1.8322893840318049, -0.04903478719548562,
      1.4417792669782608, -0.6269980532903269,
    ],
    [
      1.0704345349572033, 1.0838028657455236, -1.5834823849811779, 0.23915033905760866,
      1.724864547187438, -0.8520757404416717,
    ],
    [
      0.30774346589789275, 0.5967987845626953, -0.6115077547514396, -0.12253961471103184,
      0.9440202233787149, -1.3369114479338733,
    ],
  ],
};
