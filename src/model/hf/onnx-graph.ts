// The graph the Hugging Face exporters (onnx-export*.ts) build: the shared builder
// (../onnx-graph.ts) over a checkpoint's weights (16-bit ones widened to float32 initializers),
// with the pieces every family uses: nn.Linear and Conv1D, the norms, the activations, and
// softmax attention over a boolean mask.

import {
  type Attr,
  FLOAT,
  float,
  INT8,
  INT64,
  int,
  ints,
  ONNX_OPSET,
  OnnxGraph,
  valueInfo,
} from '../onnx-graph';
import { TensorProto, type ValueInfoProto } from '../pb/onnx';
import type { HfWeights } from './types';

export { type Attr, FLOAT, float, INT64, int, ints, ONNX_OPSET, valueInfo };

/** float32's lowest finite value (torch.finfo(float32).min): what a masked score becomes, as
 * Hugging Face's eager attention gives it, so a row with every key masked stays finite. */
const F32_LOWEST = -3.4028234663852886e38;

/** Initializers this large or larger go to the external data file (Graph.externalData). */
export const EXTERNAL_MIN_BYTES = 1024;

/** External tensors start 64-byte aligned (ORT maps them in place where it can). */
const align = (n: number) => Math.ceil(n / 64) * 64;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A length-delimited field (wire type 2). */
const lengthField = (field: number, body: Uint8Array) =>
  concat([Uint8Array.from([...varint(field * 8 + 2), ...varint(body.byteLength)]), body]);
const varintField = (field: number, v: number) =>
  Uint8Array.from([...varint(field * 8), ...varint(v)]);
/** A StringStringEntryProto { key = 1; value = 2 } as field `field`. */
const stringEntry = (field: number, key: string, value: string) => {
  const enc = new TextEncoder();
  return lengthField(
    field,
    concat([lengthField(1, enc.encode(key)), lengthField(2, enc.encode(value))]),
  );
};

/** A weight the export cannot use: missing, or of a shape its config does not give. */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}

/** A graph over a checkpoint's weights (see OnnxGraph for the builder's rules). */
export class Graph extends OnnxGraph {
  /**
   * Write linear layers 8-bit, as onnxruntime's quantize_dynamic does for transformers.js's
   * default `q8` files: int8 weights, symmetric per tensor (scale max|w|/127, zero point 0);
   * activations quantized to uint8 at run time (DynamicQuantizeLinear), MatMulInteger, rescaled.
   */
  quantize = false;

  /**
   * Write float initializers of at least EXTERNAL_MIN_BYTES to a separate file of this name
   * (ONNX external data: location/offset/length, data_location EXTERNAL) instead of inside the
   * model: a model past protobuf's 2 GB, or one a 32-bit wasm runtime must not hold twice
   * (the model bytes and the tensors made from them). `encode` then fills `externalBytes`.
   */
  externalData?: string;
  /** The external data file's bytes after `encode` (with `externalData` set). */
  externalBytes?: Uint8Array;

  constructor(readonly weights: HfWeights) {
    super();
  }

  /** The model, with `externalData` set its large initializers moved out (see there). */
  override encode(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array {
    const location = this.externalData;
    if (!location) return super.encode(name, inputs, outputs);
    const inline: TensorProto[] = [];
    const moved: TensorProto[] = [];
    for (const t of this.initializers) {
      ((t.rawData?.byteLength ?? 0) >= EXTERNAL_MIN_BYTES ? moved : inline).push(t);
    }
    const all = this.initializers.splice(0, this.initializers.length, ...inline);
    const head = super.encode(name, inputs, outputs);
    this.initializers.splice(0, this.initializers.length, ...all);
    // Each moved tensor without its bytes, plus its external_data entries (field 13) and
    // data_location = EXTERNAL (field 14), appended as fields: protobuf parsers take fields in
    // any order. The tensors go into a second occurrence of ModelProto.graph (field 7) holding
    // only initializers (GraphProto field 5): a parser merges repeated occurrences of a
    // singular message field, so the graph gets them appended to the inline ones.
    let offset = 0;
    const entries: Uint8Array[] = [];
    const data = new Uint8Array(moved.reduce((n, t) => n + align(t.rawData!.byteLength), 0));
    for (const t of moved) {
      const bytes = t.rawData!;
      data.set(bytes, offset);
      const meta = TensorProto.encode({ ...t, rawData: new Uint8Array(0) });
      const ext = concat([
        meta,
        stringEntry(13, 'location', location),
        stringEntry(13, 'offset', String(offset)),
        stringEntry(13, 'length', String(bytes.byteLength)),
        varintField(14, 1),
      ]);
      entries.push(lengthField(5, ext));
      offset += align(bytes.byteLength);
    }
    this.externalBytes = data;
    return concat([head, lengthField(7, concat(entries))]);
  }

  /** The checkpoint's tensor `name`, checked against `shape`, as float32 (F16 and BF16 values
   * are exact in float32, so widening loses nothing). */
  tensor(name: string, shape: readonly number[]): Float32Array {
    if (!this.weights.has(name)) throw new OnnxExportError(`tensor ${name} is missing`);
    const got = this.weights.get(name).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new OnnxExportError(
        `tensor ${name} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`,
      );
    }
    const t = this.weights.get(name);
    // F32 as stored (a real-size checkpoint's embedding is 10⁸ floats: no float64 round trip).
    const data =
      t.dtype === 'F32' ? (t.data as Float32Array) : Float32Array.from(this.weights.f64(name));
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new OnnxExportError(`tensor ${name} holds ${data.length} elements, expected ${n}`);
    }
    return data;
  }

  /** The checkpoint's tensor as an initializer of its own shape. */
  weight(name: string, shape: number[]): string {
    return this.floats(name, this.tensor(name, shape), shape);
  }

  /** An nn.Linear weight ([out, in] in the file) stored transposed, [in, out], for MatMul. */
  linearWeight(name: string, out: number, inp: number): string {
    const w = this.tensor(name, [out, inp]);
    const t = new Float32Array(w.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w[o * inp + i]!;
    return this.floats(`${name}.T`, t, [inp, out]);
  }

  // ---- shared layers --------------------------------------------------------------------

  /** y = x·W + b, W already [in, out] (a Conv1D weight, or linearWeight's transpose). */
  matmul(x: string, w: string, bias?: string): string {
    const y = this.one('MatMul', [x, w]);
    return bias ? this.one('Add', [y, bias]) : y;
  }

  /** torch.nn.Linear from the file's `${name}.weight` [out, in] and, with `bias`, `.bias`. */
  linear(x: string, name: string, out: number, inp: number, bias: boolean): string {
    const b = bias ? this.weight(`${name}.bias`, [out]) : undefined;
    if (this.quantize) {
      const w = this.tensor(`${name}.weight`, [out, inp]);
      return this.matmulQ8(x, `${name}.weight`, w, out, inp, b);
    }
    return this.matmul(x, this.linearWeight(`${name}.weight`, out, inp), b);
  }

  /**
   * x·Wᵀ (+ b) with W [out, in] quantized (see `quantize`): y = (x_q − x_zp)·W_q · x_scale·w_scale.
   */
  matmulQ8(x: string, name: string, w: Float32Array, out: number, inp: number, bias?: string) {
    let max = 0;
    for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(w[i]!));
    const scale = max > 0 ? max / 127 : 1;
    const q = new Int8Array(w.length); // stored [in, out] for MatMulInteger
    for (let o = 0; o < out; o++) {
      for (let i = 0; i < inp; i++) q[i * out + o] = Math.round(w[o * inp + i]! / scale);
    }
    const wq = this.raw(`${name}_quantized`, INT8, new Uint8Array(q.buffer), [inp, out]);
    const wzp = this.raw(`${name}_zero_point`, INT8, new Uint8Array(1), []);
    const [xq, xs, xzp] = this.op('DynamicQuantizeLinear', [x], [], 3) as [string, string, string];
    const acc = this.one('MatMulInteger', [xq, wq, xzp, wzp]);
    const y = this.one('Mul', [
      this.one('Cast', [acc], [int('to', FLOAT)]),
      this.one('Mul', [xs, this.scalar(scale)]),
    ]);
    return bias ? this.one('Add', [y, bias]) : y;
  }

  /** LlamaRMSNorm over the last axis (of `rank`): x / √(mean(x²) + eps) · weight. */
  rmsNorm(x: string, weight: string, eps: number, rank: number): string {
    const ms = this.one('ReduceMean', [this.one('Mul', [x, x])], [ints('axes', [rank - 1])]);
    const rms = this.one('Sqrt', [this.one('Add', [ms, this.scalar(eps)])]);
    return this.one('Mul', [this.one('Div', [x, rms]), weight]);
  }

  /** torch.nn.LayerNorm over the last axis of a rank-3 value, from `${name}.weight/.bias`. */
  layerNorm(x: string, name: string, width: number, eps: number): string {
    const w = this.weight(`${name}.weight`, [width]);
    const b = this.weight(`${name}.bias`, [width]);
    return this.one('LayerNormalization', [x, w, b], [int('axis', 2), float('epsilon', eps)]);
  }

  /** An activation by its transformers ACT2FN key. */
  activation(x: string, name: 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu') {
    switch (name) {
      case 'silu':
        return this.one('Mul', [x, this.one('Sigmoid', [x])]);
      case 'relu':
        return this.one('Relu', [x]);
      case 'gelu': {
        // GELUActivation: 0.5·x·(1 + erf(x/√2)).
        const e = this.one('Erf', [this.one('Div', [x, this.scalar(Math.SQRT2)])]);
        return this.one('Mul', [
          this.one('Mul', [this.scalar(0.5), x]),
          this.one('Add', [this.scalar(1), e]),
        ]);
      }
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        // NewGELUActivation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
        const x3 = this.one('Mul', [this.one('Mul', [x, x]), x]);
        const inner = this.one('Mul', [
          this.scalar(Math.sqrt(2 / Math.PI)),
          this.one('Add', [x, this.one('Mul', [this.scalar(0.044715), x3])]),
        ]);
        return this.one('Mul', [
          this.one('Mul', [this.scalar(0.5), x]),
          this.one('Add', [this.scalar(1), this.one('Tanh', [inner])]),
        ]);
      }
    }
  }

  /** [B, S, heads·hd] → [B, heads, S, hd]. */
  splitHeads(x: string, heads: number, headDim: number): string {
    const r = this.one('Reshape', [x, this.ints([0, 0, heads, headDim])]);
    return this.one('Transpose', [r], [ints('perm', [0, 2, 1, 3])]);
  }

  /** [B, heads, S, hd] → [B, S, heads·hd]. */
  mergeHeads(x: string, heads: number, headDim: number): string {
    const t = this.one('Transpose', [x], [ints('perm', [0, 2, 1, 3])]);
    return this.one('Reshape', [t, this.ints([0, 0, heads * headDim])]);
  }

  /**
   * softmax(q·kᵀ·scale, masked)·v over [B, heads, S, hd] values; `allowed` (bool, broadcasting
   * to [B, heads, S, S]) says which key each query may see. A masked score becomes float32's
   * lowest value rather than −∞, so a query that sees no key (a left-pad slot) averages
   * instead of giving NaN, which would reach every later token through its value.
   */
  attention(q: string, k: string, v: string, allowed: string, scale: number): string {
    const kt = this.one('Transpose', [k], [ints('perm', [0, 1, 3, 2])]);
    const scores = this.one('Mul', [this.one('MatMul', [q, kt]), this.scalar(scale)]);
    const masked = this.one('Where', [allowed, scores, this.scalar(F32_LOWEST)]);
    return this.one('MatMul', [this.one('Softmax', [masked], [int('axis', 3)]), v]);
  }

  /** Sequence length S of an int64 [B, S] input, as a 1-element int64 tensor. */
  seqLen(input: string): string {
    const shape = this.one('Shape', [input]);
    return this.one('Slice', [shape, this.ints([1]), this.ints([2]), this.ints([0])]);
  }
}
