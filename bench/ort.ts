// ONNX Runtime Web, the peer: its wasm backend (the plain SIMD + threads build) and its WebGPU
// backend, each from its own bundle, their WebAssembly served from /ort/ (scripts/bench.mjs
// copies it there). One thread count for both tessel's CPU engine and ORT's wasm backend.
import * as ortWasm from 'onnxruntime-web/wasm';
import * as ortGpu from 'onnxruntime-web/webgpu';

export type OrtBackend = 'wasm' | 'webgpu';

let configured = false;
function configure(threads: number) {
  if (configured) return;
  configured = true;
  for (const ort of [ortWasm, ortGpu]) {
    ort.env.wasm.wasmPaths = `${location.origin}/ort/`;
    ort.env.wasm.numThreads = threads;
  }
}

export interface OrtSession {
  backend: OrtBackend;
  run(
    feeds: Record<
      string,
      { type: 'float32' | 'int64'; data: Float32Array | BigInt64Array; dims: number[] }
    >,
  ): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A session on `backend` for an ONNX model; `run` returns its one output, on the CPU. */
export async function ortSession(
  model: Uint8Array,
  backend: OrtBackend,
  threads: number,
): Promise<OrtSession> {
  configure(threads);
  const ort = backend === 'wasm' ? ortWasm : ortGpu;
  const session = await ort.InferenceSession.create(model, {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
  });
  const out = session.outputNames[0]!;
  return {
    backend,
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

export const ORT_VERSION = ortWasm.env.versions.web ?? '1.30';
