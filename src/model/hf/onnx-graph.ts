// The ONNX graph builder the Hugging Face exporters (onnx-export*.ts) share, and the pieces every
// family uses: float32 initializers (16-bit weights widened), nn.Linear and Conv1D, the norms,
// the activations, and softmax attention over a boolean mask. Standard ONNX ops only (default
// domain, opset ONNX_OPSET), so any runtime that reads ONNX runs the export.
//
// The shipped model's exporter (../gpt-onnx.ts) keeps its own smaller builder: it does not
// export one, and that file is not this module's to change.

import {
  type AttributeProto,
  type GraphProto,
  ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from '../onnx';
import type { HfWeights } from './types';

/** The opset the exports import: 17 has LayerNormalization, attribute axes on ReduceMean. */
export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR of opset 17

export const FLOAT = 1; // TensorProto.DataType
export const INT64 = 7;
const ATTR_FLOAT = 1; // AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** float32's lowest finite value (torch.finfo(float32).min): what a masked score becomes, as
 * Hugging Face's eager attention gives it, so a row with every key masked stays finite. */
const F32_LOWEST = -3.4028234663852886e38;

/** A weight the export cannot use: missing, or of a shape its config does not give. */
export class OnnxExportError extends Error {
  override readonly name = 'OnnxExportError';
}

export type Attr = Partial<AttributeProto>;
export const int = (name: string, i: number): Attr => ({ name, i, type: ATTR_INT });
export const ints = (name: string, v: number[]): Attr => ({ name, ints: v, type: ATTR_INTS });
export const float = (name: string, f: number): Attr => ({ name, f, type: ATTR_FLOAT });

/**
 * A graph under construction: named values, one node per op. Integer attributes are written
 * non-negative only (axes counted from the front): protons encodes a negative int64 attribute as
 * a truncated varint, which ONNX parsers refuse. Negative int64 *initializers* (raw bytes) are fine.
 */
export class Graph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #n = 0;

  constructor(readonly weights: HfWeights) {}

  /** A float32 initializer of these values. */
  floats(name: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
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
    const data = Float32Array.from(this.weights.f64(name));
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

  /** An int64 initializer (shapes, indices, axes). */
  ints(values: number[], dims = [values.length]): string {
    const name = `const_${this.#n++}`;
    const raw = new BigInt64Array(values.map(BigInt));
    this.initializers.push({ name, dims, dataType: INT64, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  /** A float32 scalar initializer. */
  scalar(value: number): string {
    return this.floats(`const_${this.#n++}`, Float32Array.of(value), []);
  }

  op(type: string, inputs: string[], attrs: Attr[] = [], outputs = 1): string[] {
    const out = Array.from({ length: outputs }, () => `${type.toLowerCase()}_${this.#n++}`);
    this.nodes.push({
      name: out[0]!,
      opType: type,
      input: inputs,
      output: out,
      domain: '',
      attribute: attrs.map((a) => ({ name: '', floats: [], ints: [], type: 0, ...a })),
    });
    return out;
  }

  one(type: string, inputs: string[], attrs: Attr[] = []): string {
    return this.op(type, inputs, attrs)[0]!;
  }

  /** Renames `value` to the graph output `name`. */
  output(value: string, name: string): void {
    this.nodes.push({
      name,
      opType: 'Identity',
      input: [value],
      output: [name],
      domain: '',
      attribute: [],
    });
  }

  // ---- shared layers --------------------------------------------------------------------

  /** y = x·W + b, W already [in, out] (a Conv1D weight, or linearWeight's transpose). */
  matmul(x: string, w: string, bias?: string): string {
    const y = this.one('MatMul', [x, w]);
    return bias ? this.one('Add', [y, bias]) : y;
  }

  /** torch.nn.Linear from the file's `${name}.weight` [out, in] and, with `bias`, `.bias`. */
  linear(x: string, name: string, out: number, inp: number, bias: boolean): string {
    const w = this.linearWeight(`${name}.weight`, out, inp);
    return this.matmul(x, w, bias ? this.weight(`${name}.bias`, [out]) : undefined);
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

  /** The model of this graph: IR 8, opset ONNX_OPSET. */
  encode(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array {
    const graph: GraphProto = {
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: inputs,
      output: outputs,
    };
    return ModelProto.encode({
      irVersion: IR_VERSION,
      producerName: 'tessel',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      graph,
    });
  }
}

/** A graph input or output of this element type and shape (a string: a named free dimension). */
export function valueInfo(
  name: string,
  elemType: number,
  dims: (number | string)[],
): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  };
}
