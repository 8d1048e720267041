/// <reference lib="webworker" />
// The compute Worker: owns the WebGPU device so kernels never block the page.
import * as Comlink from 'comlink';
import { idbTuneStore } from '../gpu/tune-store-idb';
import {
  type CheckpointFileMap,
  createComputeApi,
  type EmbedRequest,
  type EngineKind,
  type GenerateOptions,
  type GenerateRequest,
  type ScoreRequest,
  type TestMode,
} from './api';
import './comlink-errors';

const api = createComputeApi({ tuneStore: idbTuneStore() });

/** The object the main thread talks to; results cross back by transfer, not copy. */
const exposed = {
  info: () => api.info(),
  tune: () => api.tune(),
  async matmul(a: Float32Array, b: Float32Array, shape: { m: number; k: number; n: number }) {
    const c = await api.matmul(a, b, shape);
    return Comlink.transfer(c, [c.buffer]);
  },
  setEngine: (engine: EngineKind) => api.setEngine(engine),
  benchmark: (sizes?: number[], runs?: number, engine?: EngineKind) =>
    api.benchmark(sizes, runs, engine),
  loadModel: (files: CheckpointFileMap) => api.loadModel(files),
  unloadModel: (digest: string) => api.unloadModel(digest),
  generate: (digest: string, request: GenerateRequest) => api.generate(digest, request),
  async embed(digest: string, request: EmbedRequest) {
    const vectors = await api.embed(digest, request);
    return Comlink.transfer(vectors, buffersOf(vectors));
  },
  async score(digest: string, request: ScoreRequest) {
    const scores = await api.score(digest, request);
    return Comlink.transfer(scores, buffersOf(scores.map((s) => s.logprobs)));
  },
  async logits(digest: string, tokens: Uint32Array, batch: number, seq: number, from: number) {
    const logits = await api.logits(digest, tokens, batch, seq, from);
    return Comlink.transfer(logits, [logits.buffer]);
  },
  async generateTokens(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ) {
    const out = await api.generateTokens(digest, tokens, batch, seq, options);
    return Comlink.transfer(out, [out.buffer]);
  },
  hasModel: (digest: string) => api.hasModel(digest),
  simulateDeviceLoss: () => api.simulateDeviceLoss(),
  setTestMode: (mode: TestMode) => api.setTestMode(mode),
};

/** The distinct buffers under `arrays` (a buffer listed twice cannot be transferred). */
function buffersOf(arrays: readonly Float32Array[]): ArrayBuffer[] {
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

/** The type the main thread imports (type only: no worker code enters the page bundle). */
export type ExposedCompute = typeof exposed;

Comlink.expose(exposed);
