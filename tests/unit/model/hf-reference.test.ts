// The float64 reference of Hugging Face's architectures (src/model/hf/reference*.ts): its
// properties (cache, padding, GQA, windows, norms) and its values against Hugging Face's own
// modeling code (HF_GOLDEN). Over the ~450-line guide because each family needs its own
// tiny-weight builder, and the golden values must sit beside the weights they were computed on.
import { describe, expect, test } from 'vitest';
import {
  applyRotary,
  bertForward,
  decoderForward,
  erf,
  geluErf,
  geluTanh,
  gpt2Forward,
  HfReferenceError,
  KvCache,
  llama3InvFreq,
  poolEmbeddings,
  rotaryInvFreq,
} from '../../../src/model/hf/reference';
import { prepareStep } from '../../../src/model/hf/reference-cache';
import type {
  BertConfig,
  DecoderConfig,
  Gpt2Config,
  HfTensor,
  HfWeights,
} from '../../../src/model/hf/types';
import { seededRng } from '../../../src/model/rng';

// Tiny random weights through a minimal HfWeights over a Map, so these tests stand on nothing
// but the reference itself (the checkpoint loader is tested on its own).
class MapWeights implements HfWeights {
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
function randomWeights(shapes: Record<string, number[]>, seed: number): MapWeights {
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

function decoderShapes(c: DecoderConfig): Record<string, number[]> {
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
const FAMILIES: Record<string, DecoderConfig> = {
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

const GPT2: Gpt2Config = {
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

function gpt2Shapes(c: Gpt2Config): Record<string, number[]> {
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

const BERT: BertConfig = {
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
function bertShapes(c: BertConfig): Record<string, number[]> {
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
const HF_GOLDEN: Record<string, number[][]> = {
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

/** Largest absolute difference between two vectors. */
function diff(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const gpt2Weights = randomWeights(gpt2Shapes(GPT2), 7);
type Forward = (
  tokens: number[][],
  o?: { attentionMask?: number[][]; cache?: KvCache },
) => Float64Array[][];
const models: [string, Forward, number][] = [
  ...Object.entries(FAMILIES).map(([name, c], i): [string, Forward, number] => {
    const w = randomWeights(decoderShapes(c), 10 + i);
    return [name, (t, o) => decoderForward(c, w, t, o), c.numLayers];
  }),
  ['gpt2', (t, o) => gpt2Forward(GPT2, gpt2Weights, t, o), GPT2.nLayer],
];

describe('causal models', () => {
  const seq = [3, 9, 4, 17, 2, 11, 5, 8];

  test.each(models)(
    '%s: a KV-cache decode equals the full recompute at every position',
    (_, fwd, layers) => {
      const full = fwd([seq])[0]!;
      const cache = new KvCache(1, layers);
      const prefill = fwd([seq.slice(0, 4)], { cache })[0]!;
      prefill.forEach((l, t) => {
        expect(diff(l, full[t]!)).toBeLessThan(1e-12);
      });
      for (let t = 4; t < seq.length; t++) {
        const step = fwd([[seq[t]!]], { cache })[0]![0]!;
        expect(diff(step, full[t]!)).toBeLessThan(1e-12);
      }
      expect(cache.length).toBe(seq.length);
    },
  );

  test.each(models)(
    '%s: a left-padded batch, prefill and decode, equals one sequence at a time',
    (_, fwd, layers) => {
      const a = [3, 9, 4, 17, 2, 11];
      const b = [6, 1, 12];
      const pad = [0, 0, 0];
      const cache = new KvCache(2, layers);
      const batch = fwd([a, [...pad, ...b]], {
        attentionMask: [a.map(() => 1), [0, 0, 0, 1, 1, 1]],
        cache,
      });
      const alone = [fwd([a])[0]!, fwd([b])[0]!];
      a.forEach((_, t) => {
        expect(diff(batch[0]![t]!, alone[0]![t]!)).toBeLessThan(1e-12);
      });
      b.forEach((_, t) => {
        expect(diff(batch[1]![t + 3]!, alone[1]![t]!)).toBeLessThan(1e-12);
      });
      // Two decode steps; the second passes the whole mask, as Hugging Face's generate does.
      const next = [
        [7, 13],
        [20, 5],
      ];
      const s1 = fwd([[next[0]![0]!], [next[1]![0]!]], { cache });
      const s2 = fwd([[next[0]![1]!], [next[1]![1]!]], {
        cache,
        attentionMask: [new Array(8).fill(1), [0, 0, 0, 1, 1, 1, 1, 1]],
      });
      const fullA = fwd([[...a, ...next[0]!]])[0]!;
      const fullB = fwd([[...b, ...next[1]!]])[0]!;
      expect(diff(s1[0]![0]!, fullA[6]!)).toBeLessThan(1e-12);
      expect(diff(s2[0]![0]!, fullA[7]!)).toBeLessThan(1e-12);
      expect(diff(s1[1]![0]!, fullB[3]!)).toBeLessThan(1e-12);
      expect(diff(s2[1]![0]!, fullB[4]!)).toBeLessThan(1e-12);
    },
  );

  test.each(models)(
    '%s: bad input is an HfReferenceError and leaves the cache as it was',
    (_, fwd, layers) => {
      const cache = new KvCache(1, layers);
      fwd([[1, 2]], { cache });
      for (const bad of [
        () => fwd([[1, 99]], { cache }),
        () => fwd([[1, 2], [3]]),
        () => fwd([[1]], { cache, attentionMask: [[2]] }),
        () => fwd([[1]], { cache, attentionMask: [[0, 1, 1]] }), // cached part disagrees
        () => fwd([[1], [2]], { cache }),
        () => fwd([[1]], { cache: new KvCache(1, layers + 1) }),
      ]) {
        expect(bad).toThrow(HfReferenceError);
      }
      expect(cache.length).toBe(2);
    },
  );
});

test('position ids of a left-padded batch are cumsum(mask) − 1, padding at 1 (generate)', () => {
  const step = prepareStep([[5, 5, 5, 5, 5]], 10, [[0, 0, 1, 1, 1]], undefined, 1);
  expect(step.positions).toEqual([[1, 1, 0, 1, 2]]);
  const cache = new KvCache(1, 1);
  cache.mask[0]!.push(0, 1, 1);
  expect(prepareStep([[5]], 10, undefined, cache, 1).positions).toEqual([[2]]);
});

test('Llama 3 rope scaling: long wavelengths slowed, short kept, the middle interpolated', () => {
  const r = { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };
  const f = (wavelen: number) => (2 * Math.PI) / wavelen;
  const got = llama3InvFreq(Float64Array.from([f(1000), f(10_000), f(4096)]), r);
  expect(got[0]).toBeCloseTo(f(1000), 15);
  expect(got[1]).toBeCloseTo(f(10_000) / 8, 15);
  const s = (8192 / 4096 - 1) / 3;
  expect(got[2]).toBeCloseTo(((1 - s) * f(4096)) / 8 + s * f(4096), 15);
});

test('explicit position ids replace generate’s (GPT-2 learns absolute positions)', () => {
  const b = [6, 1, 12];
  const padded = gpt2Forward(GPT2, gpt2Weights, [[0, 0, 0, ...b]], {
    attentionMask: [[0, 0, 0, 1, 1, 1]],
    positionIds: [[0, 1, 2, 3, 4, 5]], // a plain forward call numbers slots, padding or not
  })[0]!;
  const shifted = gpt2Forward(GPT2, gpt2Weights, [b], { positionIds: [[3, 4, 5]] })[0]!;
  const plain = gpt2Forward(GPT2, gpt2Weights, [b])[0]!;
  b.forEach((_, t) => {
    expect(diff(padded[t + 3]!, shifted[t]!)).toBeLessThan(1e-12);
    expect(diff(padded[t + 3]!, plain[t]!)).toBeGreaterThan(1e-6);
  });
  expect(() => gpt2Forward(GPT2, gpt2Weights, [b], { positionIds: [[0, 1]] })).toThrow(
    HfReferenceError,
  );
});

test('rotary embedding: inverse frequencies and the rotate-half pairing, by hand', () => {
  const f = rotaryInvFreq(8, 10_000);
  [1, 0.1, 0.01, 0.001].forEach((v, i) => {
    expect(f[i]).toBeCloseTo(v, 15);
  });
  // head size 4: dimension 0 pairs with 2 (angle 1·pos), 1 with 3 (angle 0.01·pos)
  const x = Float64Array.from([9, 1, 2, 3, 4]);
  applyRotary(x, 1, 4, 2, rotaryInvFreq(4, 10_000));
  const [c1, s1, c2, s2] = [Math.cos(2), Math.sin(2), Math.cos(0.02), Math.sin(0.02)];
  const want = [9, 1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2];
  want.forEach((v, i) => {
    expect(x[i]).toBeCloseTo(v, 14);
  });
  // position 0 is the identity
  const y = Float64Array.from([1, 2, 3, 4]);
  applyRotary(y, 0, 4, 0, rotaryInvFreq(4, 10_000));
  expect([...y]).toEqual([1, 2, 3, 4]);
});

test('erf and both GELUs against known values (Python math.erf / math.tanh)', () => {
  const near = (a: number, b: number) =>
    expect(Math.abs(a - b)).toBeLessThan(4.5e-16 * Math.max(1, Math.abs(b)));
  near(erf(0), 0);
  near(erf(0.5), 0.5204998778130465);
  near(erf(1), 0.8427007929497149);
  near(erf(2), 0.9953222650189527);
  near(erf(-3), -0.9999779095030014);
  near(erf(7), 1);
  near(geluErf(1), 0.8413447460685429);
  near(geluErf(-2), -0.04550026389635842);
  near(geluTanh(1), 0.8411919906082768);
  near(geluTanh(-2), -0.04540230591222494);
});

describe('decoders', () => {
  test('a tied head is embed_tokens: a 0-layer model is norm(embedding) · embeddingᵀ', () => {
    const c: DecoderConfig = { ...FAMILIES.llama!, numLayers: 0 };
    const w = randomWeights(decoderShapes(c), 3);
    expect(w.has('lm_head.weight')).toBe(false);
    const E = w.f64('model.embed_tokens.weight');
    const g = w.f64('model.norm.weight');
    const H = c.hiddenSize;
    const logits = decoderForward(c, w, [[4]])[0]![0]!;
    const e = E.subarray(4 * H, 5 * H);
    const r = 1 / Math.sqrt(e.reduce((s, v) => s + v * v, 0) / H + c.rmsNormEps);
    for (let v = 0; v < c.vocabSize; v++) {
      let want = 0;
      for (let d = 0; d < H; d++) want += e[d]! * r * g[d]! * E[v * H + d]!;
      expect(logits[v]).toBeCloseTo(want, 13);
    }
    // untied, the head is lm_head.weight, and it must be there
    const untied = { ...c, tieWordEmbeddings: false };
    expect(() => decoderForward(untied, w, [[4]])).toThrow(HfReferenceError);
  });

  test('GQA equals full multi-head attention with each kv head repeated (repeat_kv)', () => {
    const gqa: DecoderConfig = { ...FAMILIES.qwen2!, numKvHeads: 2 }; // 2 q heads per kv head; biases
    const mha: DecoderConfig = { ...gqa, numKvHeads: gqa.numHeads };
    const w = randomWeights(decoderShapes(gqa), 21);
    const map = new Map(w.map);
    const group = gqa.numHeads / gqa.numKvHeads;
    const hd = gqa.headDim;
    for (let l = 0; l < gqa.numLayers; l++) {
      for (const kind of ['k_proj', 'v_proj']) {
        for (const part of ['weight', 'bias']) {
          const name = `model.layers.${l}.self_attn.${kind}.${part}`;
          const t = w.map.get(name)!;
          const cols = part === 'weight' ? gqa.hiddenSize : 1;
          const rep = new Float64Array(gqa.numHeads * hd * cols);
          for (let h = 0; h < gqa.numHeads; h++) {
            const src = Math.floor(h / group) * hd * cols;
            rep.set(t.data.subarray(src, src + hd * cols), h * hd * cols);
          }
          const shape =
            part === 'weight' ? [gqa.numHeads * hd, gqa.hiddenSize] : [gqa.numHeads * hd];
          map.set(name, { shape, data: rep });
        }
      }
    }
    const tokens = [[3, 9, 4, 17, 2]];
    const a = decoderForward(gqa, w, tokens)[0]!;
    const b = decoderForward(mha, new MapWeights(map), tokens)[0]!;
    a.forEach((l, t) => {
      expect(diff(l, b[t]!)).toBeLessThan(1e-12);
    });
  });

  test('Qwen3: head_dim ≠ hidden/heads runs, and q_norm/k_norm make attention blind to q/k scale', () => {
    const c: DecoderConfig = { ...FAMILIES.qwen3!, rmsNormEps: 1e-14 };
    expect(c.headDim * c.numHeads).not.toBe(c.hiddenSize);
    const scaled = (cfg: DecoderConfig, seed: number) => {
      const w = randomWeights(decoderShapes(cfg), seed);
      const map = new Map(w.map);
      for (let l = 0; l < cfg.numLayers; l++) {
        for (const k of ['q_proj', 'k_proj']) {
          const name = `model.layers.${l}.self_attn.${k}.weight`;
          const t = w.map.get(name)!;
          map.set(name, { shape: t.shape, data: t.data.map((v) => v * 5) });
        }
      }
      return [w, new MapWeights(map)] as const;
    };
    const tokens = [[3, 9, 4, 17, 2]];
    const [w, w5] = scaled(c, 31);
    const a = decoderForward(c, w, tokens)[0]!;
    a.forEach((l) => {
      expect(l.every(Number.isFinite)).toBe(true);
    });
    const b = decoderForward(c, w5, tokens)[0]!;
    a.forEach((l, t) => {
      expect(diff(l, b[t]!)).toBeLessThan(1e-9);
    });
    // without q/k norm the same scaling changes the output: the test above can fail
    const llama: DecoderConfig = { ...c, family: 'llama', qkNorm: false };
    const [u, u5] = scaled(llama, 31);
    expect(
      diff(decoderForward(llama, u, tokens)[0]![4]!, decoderForward(llama, u5, tokens)[0]![4]!),
    ).toBeGreaterThan(1e-3);
  });

  test('Mistral sliding window w: a query sees w slots counting itself (kv > q − w)', () => {
    const c: DecoderConfig = { ...FAMILIES.mistral!, numLayers: 1, slidingWindow: 3 };
    const w = randomWeights(decoderShapes(c), 41);
    const a = decoderForward(c, w, [[3, 9, 4, 17, 2, 11]])[0]!;
    const b = decoderForward(c, w, [[8, 9, 4, 17, 2, 11]])[0]!;
    expect(diff(a[2]!, b[2]!)).toBeGreaterThan(1e-6); // slot 2 sees 0, 1, 2
    for (const t of [3, 4, 5]) expect(diff(a[t]!, b[t]!)).toBe(0); // slot 3 sees 1, 2, 3
    const full = decoderForward({ ...c, slidingWindow: undefined }, w, [[8, 9, 4, 17, 2, 11]])[0]!;
    expect(diff(full[5]!, b[5]!)).toBeGreaterThan(1e-6);
  });

  test('a cache filled by a model of another key width is refused', () => {
    const c = FAMILIES.llama!;
    const w = randomWeights(decoderShapes(c), 10);
    const cache = new KvCache(1, c.numLayers);
    decoderForward(FAMILIES.qwen3!, randomWeights(decoderShapes(FAMILIES.qwen3!), 12), [[1]], {
      cache,
    });
    expect(() => decoderForward(c, w, [[2]], { cache })).toThrow(/keys of 16 values/);
  });

  test('a tensor of the wrong shape is an HfReferenceError', () => {
    const c = FAMILIES.llama!;
    const w = randomWeights({ ...decoderShapes(c), 'model.norm.weight': [c.hiddenSize + 1] }, 5);
    expect(() => decoderForward(c, w, [[1]])).toThrow(/model\.norm\.weight/);
  });
});

// The shipped model's own float64 GPT-2 (src/model/gpt.ts) was compared with this one here until
// the model became a Hugging Face checkpoint; its recorded logits are now checked against this
// reference in tests/unit/model/shipped-model.test.ts.
test('GPT-2 refuses a sequence past n_positions', () => {
  const w = randomWeights(gpt2Shapes(GPT2), 7);
  expect(() => gpt2Forward(GPT2, w, [new Array(25).fill(1)])).toThrow(/n_positions/);
});

describe('BERT', () => {
  const c = BERT;
  const w = randomWeights(bertShapes(c), 51);

  test('padding does not change the real tokens’ hidden states; token types do', () => {
    const a = [2, 7, 19, 4, 11];
    const b = [2, 25, 3];
    const batch = bertForward(c, w, [a, [...b, 0, 0]], {
      attentionMask: [
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ],
    });
    const alone = bertForward(c, w, [b])[0]!;
    b.forEach((_, t) => {
      expect(diff(batch[1]![t]!, alone[t]!)).toBeLessThan(1e-12);
    });
    expect(diff(bertForward(c, w, [a])[0]![0]!, batch[0]![0]!)).toBeLessThan(1e-12);
    const typed = bertForward(c, w, [b], { tokenTypeIds: [[1, 1, 1]] })[0]!;
    expect(diff(typed[0]!, alone[0]!)).toBeGreaterThan(1e-6);
    expect(() => bertForward(c, w, [b], { tokenTypeIds: [[0, 2, 0]] })).toThrow(HfReferenceError);
    expect(() => bertForward(c, w, [b], { attentionMask: [[0, 0, 0]] })).toThrow(HfReferenceError);
  });

  test('post-LN: with the last LayerNorm at gain 1, bias 0, each token has mean 0 and variance 1', () => {
    const map = new Map(w.map);
    map.set('encoder.layer.1.output.LayerNorm.weight', {
      shape: [16],
      data: new Float64Array(16).fill(1),
    });
    map.set('encoder.layer.1.output.LayerNorm.bias', { shape: [16], data: new Float64Array(16) });
    for (const x of bertForward(c, new MapWeights(map), [[2, 7, 19]])[0]!) {
      const mean = x.reduce((s, v) => s + v, 0) / 16;
      expect(Math.abs(mean)).toBeLessThan(1e-12);
      expect(x.reduce((s, v) => s + (v - mean) ** 2, 0) / 16).toBeCloseTo(1, 10);
    }
  });
});

test('pooling as sentence-transformers does it, on a hand-made example', () => {
  const h = [
    [1, 2],
    [3, 4],
    [100, -100],
  ].map((v) => Float64Array.from(v));
  const left = [
    [100, -100],
    [1, 2],
    [3, 4],
  ].map((v) => Float64Array.from(v));
  const pool = (
    mode: 'mean' | 'cls' | 'max' | 'lasttoken',
    normalize: boolean,
    x = h,
    m = [1, 1, 0],
  ) => [...poolEmbeddings([x], [m], { mode, normalize })[0]!];
  expect(pool('mean', false)).toEqual([2, 3]);
  const n = pool('mean', true);
  expect(n[0]).toBeCloseTo(2 / Math.sqrt(13), 15);
  expect(n[1]).toBeCloseTo(3 / Math.sqrt(13), 15);
  expect(pool('cls', false)).toEqual([1, 2]);
  expect(pool('max', false)).toEqual([3, 4]);
  expect(pool('lasttoken', false)).toEqual([3, 4]);
  expect(pool('lasttoken', false, left, [0, 1, 1])).toEqual([3, 4]);
  expect(pool('mean', true, h, [0, 0, 0])).toEqual([0, 0]);
  expect(() => poolEmbeddings([h], [[1, 2, 0]], { mode: 'mean', normalize: false })).toThrow(
    HfReferenceError,
  );
});

describe('against Hugging Face’s modeling code (HF_GOLDEN)', () => {
  const ids = [
    [3, 9, 4, 17, 2, 11, 5, 8],
    [0, 0, 0, 6, 1, 12, 7, 20],
  ];
  const attentionMask = [
    [1, 1, 1, 1, 1, 1, 1, 1],
    [0, 0, 0, 1, 1, 1, 1, 1],
  ];
  const check = (name: string, got: Float64Array[]) => {
    got.forEach((v, i) => {
      expect(diff(v.subarray(0, 6), Float64Array.from(HF_GOLDEN[name]![i]!))).toBeLessThan(1e-12);
    });
  };
  test.each(models)('%s', (name, fwd) => {
    const out = fwd(ids, { attentionMask });
    check(name, [out[0]![7]!, out[1]![7]!, out[1]![3]!]);
  });
  test('bert', () => {
    const out = bertForward(
      BERT,
      randomWeights(bertShapes(BERT), 51),
      [
        [2, 7, 19, 4, 11],
        [2, 25, 3, 0, 0],
      ],
      {
        attentionMask: [
          [1, 1, 1, 1, 1],
          [1, 1, 1, 0, 0],
        ],
        tokenTypeIds: [
          [0, 0, 1, 1, 1],
          [0, 1, 1, 0, 0],
        ],
      },
    );
    check('bert', [out[0]![0]!, out[1]![0]!, out[1]![2]!]);
  });
});
