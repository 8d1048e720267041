// ONNX Runtime Web, the peer: its wasm backend (the plain SIMD + threads build) or its WebGPU
// backend, each bundle loaded only by the page that measures it (a page measures one side: see
// scripts/bench.mjs), its WebAssembly served from /ort/ (scripts/bench.mjs copies it there).
// One thread count for both tessel's CPU engine and ORT's wasm backend.
import { encodeModel, FLOAT, valueInfo } from '../src/model/onnx-graph';

export type OrtBackend = 'wasm' | 'webgpu';

type Ort = typeof import('onnxruntime-web/wasm');

const bundles: Record<OrtBackend, () => Promise<Ort>> = {
  wasm: () => import('onnxruntime-web/wasm'),
  webgpu: () => import('onnxruntime-web/webgpu') as Promise<Ort>,
};

export interface OrtSession {
  backend: OrtBackend;
  /** ONNX Runtime Web's version. */
  version: string;
  /** Runs the model; returns its one output, on the CPU. */
  run(
    feeds: Record<
      string,
      { type: 'float32' | 'int64'; data: Float32Array | BigInt64Array; dims: number[] }
    >,
  ): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A session on `backend` for an ONNX model (graph optimisation 'all'), `threads` threads. */
export async function ortSession(
  model: Uint8Array,
  backend: OrtBackend,
  threads: number,
): Promise<OrtSession> {
  const ort = await bundles[backend]();
  ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
  ort.env.wasm.numThreads = threads;
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
  const out = session.outputNames[0]!;
  return {
    backend,
    version: ort.env.versions.web ?? 'unknown',
    async run(feeds) {
      const tensors = Object.fromEntries(
        Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.type, f.data, f.dims)]),
      );
      const result = await session.run(tensors);
      const t = result[out]!;
      const data = (await t.getData()) as Float32Array;
      t.dispose();
      return data;
    },
    release: () => session.release(),
  };
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
