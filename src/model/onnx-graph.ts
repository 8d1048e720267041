// The ONNX graph builder every tessel exporter shares: float32 and int64 initializers, one node
// per op, attributes, graph inputs and outputs, and the model wrapper (IR 8, opset ONNX_OPSET).
// Standard ONNX ops only (default domain), so any runtime that reads ONNX runs an export. Used by
// the shipped model's exporter (gpt-onnx.ts) and the Hugging Face families' (hf/onnx-graph.ts).

import {
  type AttributeProto,
  type GraphProto,
  ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './pb/onnx';

/** The opset every export imports: 17 has LayerNormalization, attribute axes on ReduceMean. */
export const ONNX_OPSET = 17;
const IR_VERSION = 8; // the IR of opset 17

export const FLOAT = 1; // TensorProto.DataType
export const INT64 = 7;
export const UINT8 = 2;
export const INT8 = 3;
const ATTR_FLOAT = 1; // AttributeProto.AttributeType
const ATTR_INT = 2;
const ATTR_INTS = 7;

export type Attr = Partial<AttributeProto>;
export const int = (name: string, i: number): Attr => ({ name, i, type: ATTR_INT });
export const ints = (name: string, v: number[]): Attr => ({ name, ints: v, type: ATTR_INTS });
export const float = (name: string, f: number): Attr => ({ name, f, type: ATTR_FLOAT });

/**
 * A graph under construction: named values, one node per op. Integer attributes are written
 * non-negative only (axes counted from the front): protons encodes a negative int64 attribute as
 * a truncated varint, which ONNX parsers refuse. Negative int64 *initializers* (raw bytes) are fine.
 */
export class OnnxGraph {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #n = 0;

  /** A float32 initializer of these values. */
  floats(name: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 initializer (shapes, indices, axes). */
  ints(values: number[], dims = [values.length]): string {
    const name = `const_${this.#n++}`;
    const raw = new BigInt64Array(values.map(BigInt));
    this.initializers.push({ name, dims, dataType: INT64, rawData: new Uint8Array(raw.buffer) });
    return name;
  }

  /** An initializer of raw little-endian elements of `dataType` (int8 weights, say). */
  raw(name: string, dataType: number, bytes: Uint8Array, dims: number[]): string {
    this.initializers.push({ name, dims, dataType, rawData: bytes });
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

  /** The model of this graph. */
  encode(name: string, inputs: ValueInfoProto[], outputs: ValueInfoProto[]): Uint8Array {
    return encodeModel({
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: inputs,
      output: outputs,
    });
  }
}

/** A model of one graph, as tessel writes every ONNX file: IR 8, the default opset ONNX_OPSET. */
export function encodeModel(graph: GraphProto): Uint8Array {
  return ModelProto.encode({
    irVersion: IR_VERSION,
    producerName: 'tessel',
    producerVersion: '0.1.0',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph,
  });
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
