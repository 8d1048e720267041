// The float64 reference of Hugging Face's architectures (src/model/hf/reference*.ts): its
// properties (cache, padding, GQA, windows, norms) and its values against Hugging Face's own
// modeling code (HF_GOLDEN). The families' tiny weights and the golden values computed on them:
// tests/support/hf-reference-fixture.ts.
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
import type { DecoderConfig } from '../../../src/model/hf/types';

import {
  BERT,
  bertShapes,
  decoderShapes,
  FAMILIES,
  GPT2,
  gpt2Shapes,
  HF_GOLDEN,
  MapWeights,
  randomWeights,
} from '../../support/hf-reference-fixture';

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
