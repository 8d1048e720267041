/// <reference lib="webworker" />
// The compute Worker: owns the WebGPU device so kernels never block the page.
import * as Comlink from 'comlink';
import { idbTuneStore } from '../gpu/tune-store-idb';
import { createComputeApi, type EngineKind, type GenerateOptions, type TestMode } from './api';
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
  loadModel: (file: Uint8Array, config: unknown) => api.loadModel(file, config),
  async infer(digest: string, tokens: Uint32Array, batch: number, seq: number) {
    const logits = await api.infer(digest, tokens, batch, seq);
    return Comlink.transfer(logits, [logits.buffer]);
  },
  async logitsFrom(digest: string, tokens: Uint32Array, batch: number, seq: number, from: number) {
    const logits = await api.logitsFrom(digest, tokens, batch, seq, from);
    return Comlink.transfer(logits, [logits.buffer]);
  },
  async generate(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ) {
    const out = await api.generate(digest, tokens, batch, seq, options);
    return Comlink.transfer(out, [out.buffer]);
  },
  hasModel: (digest: string) => api.hasModel(digest),
  simulateDeviceLoss: () => api.simulateDeviceLoss(),
  setTestMode: (mode: TestMode) => api.setTestMode(mode),
};

/** The type the main thread imports (type only: no worker code enters the page bundle). */
export type ExposedCompute = typeof exposed;

Comlink.expose(exposed);
