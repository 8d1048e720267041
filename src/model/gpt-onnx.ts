// The shipped model as an ONNX graph, built from the same safetensors weights and the same ops
// as src/model/gpt-gpu.ts, so ONNX Runtime Web (what transformers.js runs) can be measured
// against tessel on the same model (`npm run bench`). `npm run export-onnx` writes the file.
import type { GptConfig, GptWeights } from './gpt';
import { encodeModel, FLOAT, float, INT64, int, ints, OnnxGraph, valueInfo } from './onnx-graph';

/** Graph input and output names. */
export const ONNX_INPUT = 'tokens'; // int64 [batch, seq]
export const ONNX_OUTPUT = 'logits'; // float32 [batch, vocab], the last position's

/**
 * The ONNX model (opset 17, IR 8) of a GPT with these weights: tokens (int64, batch × seq) in,
 * the last position's logits (float32, batch × vocab) out, like `GpuGpt.forward`.
 */
export function gptToOnnx(c: GptConfig, w: GptWeights): Uint8Array {
  const g = new OnnxGraph();
  const D = c.dModel;
  const H = c.nHead;
  const hd = D / H;
  // Sequence length S as a 1-element tensor, from the input's shape.
  const shape = g.one('Shape', [ONNX_INPUT]);
  const S = g.one('Slice', [shape, g.ints([1]), g.ints([2]), g.ints([0])]);
  const zero = g.ints([0]);
  const pos = g.one('Slice', [g.floats('wpe', w.wpe, [c.maxSeq, D]), zero, S, zero]);
  let h = g.one('Add', [g.one('Gather', [g.floats('wte', w.wte, [c.vocab, D]), ONNX_INPUT]), pos]);
  // Causal mask: 0 on and below the diagonal, −1e9 above (exp underflows to exactly 0).
  const mask = new Float32Array(c.maxSeq * c.maxSeq);
  for (let i = 0; i < c.maxSeq; i++)
    for (let j = i + 1; j < c.maxSeq; j++) mask[i * c.maxSeq + j] = -1e9;
  const SS = g.one('Concat', [S, S], [int('axis', 0)]);
  const causal = g.one('Slice', [
    g.floats('causal_mask', mask, [c.maxSeq, c.maxSeq]),
    g.ints([0, 0]),
    SS,
    g.ints([0, 1]),
  ]);
  const scale = g.scalar(1 / Math.sqrt(hd));
  const headShape = g.ints([0, 0, H, hd]);
  const flatShape = g.ints([0, 0, D]);
  const half = g.scalar(0.5);
  const one = g.scalar(1);
  const geluA = g.scalar(0.044715);
  const geluB = g.scalar(0.7978845608028654);
  // Axes are written as positive numbers: protons 8 encodes a negative int64 as a truncated
  // varint, which ONNX parsers refuse.
  const ln = (x: string, gamma: string, beta: string, rank = 3) =>
    g.one('LayerNormalization', [x, gamma, beta], [int('axis', rank - 1), float('epsilon', c.eps)]);
  const linear = (
    x: string,
    wName: string,
    wData: Float32Array,
    k: number,
    n: number,
    b?: [string, Float32Array],
  ) => {
    const y = g.one('MatMul', [x, g.floats(wName, wData, [k, n])]);
    return b ? g.one('Add', [y, g.floats(b[0], b[1], [n])]) : y;
  };
  for (const [i, b] of w.blocks.entries()) {
    const p = `h.${i}.`;
    let x = ln(h, g.floats(`${p}ln_1.weight`, b.ln1g, [D]), g.floats(`${p}ln_1.bias`, b.ln1b, [D]));
    const qkv = linear(x, `${p}attn.c_attn.weight`, b.attnW, D, 3 * D, [
      `${p}attn.c_attn.bias`,
      b.attnB,
    ]);
    const [q, k, v] = g.op('Split', [qkv, g.ints([D, D, D])], [int('axis', 2)], 3) as [
      string,
      string,
      string,
    ];
    const heads = (t: string, perm: number[]) =>
      g.one('Transpose', [g.one('Reshape', [t, headShape])], [ints('perm', perm)]);
    const scores = g.one('Add', [
      g.one('Mul', [g.one('MatMul', [heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 3, 1])]), scale]),
      causal,
    ]);
    const probs = g.one('Softmax', [scores], [int('axis', 3)]);
    const att = g.one('MatMul', [probs, heads(v, [0, 2, 1, 3])]);
    const merged = g.one('Reshape', [
      g.one('Transpose', [att], [ints('perm', [0, 2, 1, 3])]),
      flatShape,
    ]);
    h = g.one('Add', [
      h,
      linear(merged, `${p}attn.c_proj.weight`, b.projW, D, D, [`${p}attn.c_proj.bias`, b.projB]),
    ]);
    x = ln(h, g.floats(`${p}ln_2.weight`, b.ln2g, [D]), g.floats(`${p}ln_2.bias`, b.ln2b, [D]));
    const f = linear(x, `${p}mlp.c_fc.weight`, b.fcW, D, c.dFF, [`${p}mlp.c_fc.bias`, b.fcB]);
    // GELU, GPT-2's tanh form, from primitives every runtime has: 0.5·f·(1 + tanh(√(2/π)(f + 0.044715 f³))).
    const f3 = g.one('Mul', [g.one('Mul', [f, f]), f]);
    const inner = g.one('Mul', [geluB, g.one('Add', [f, g.one('Mul', [geluA, f3])])]);
    const gelu = g.one('Mul', [
      g.one('Mul', [half, f]),
      g.one('Add', [one, g.one('Tanh', [inner])]),
    ]);
    h = g.one('Add', [
      h,
      linear(gelu, `${p}mlp.c_proj.weight`, b.fc2W, c.dFF, D, [`${p}mlp.c_proj.bias`, b.fc2B]),
    ]);
  }
  // The last position only, as tessel's forward pass: LN then the tied head (wteᵀ).
  const last = g.one('Gather', [h, g.ints([-1], [])], [int('axis', 1)]);
  const lastN = ln(
    last,
    g.floats('ln_f.weight', w.lnfg, [D]),
    g.floats('ln_f.bias', w.lnfb, [D]),
    2,
  );
  const head = new Float32Array(D * c.vocab);
  for (let v = 0; v < c.vocab; v++)
    for (let d = 0; d < D; d++) head[d * c.vocab + v] = w.wte[v * D + d]!;
  const logits = g.one('MatMul', [lastN, g.floats('lm_head', head, [D, c.vocab])]);
  g.output(logits, ONNX_OUTPUT);
  return g.encode(
    'tessel-gpt',
    [valueInfo(ONNX_INPUT, INT64, ['batch', 'seq'])],
    [valueInfo(ONNX_OUTPUT, FLOAT, ['batch', c.vocab])],
  );
}

/** C = A·B as an ONNX graph (float32; A: M × K, B: K × N, any sizes): the matmul peer's model. */
export function matmulToOnnx(): Uint8Array {
  return encodeModel({
    name: 'matmul',
    node: [
      {
        name: 'matmul',
        opType: 'MatMul',
        input: ['a', 'b'],
        output: ['c'],
        domain: '',
        attribute: [],
      },
    ],
    initializer: [],
    input: [valueInfo('a', FLOAT, ['M', 'K']), valueInfo('b', FLOAT, ['K', 'N'])],
    output: [valueInfo('c', FLOAT, ['M', 'N'])],
  });
}
