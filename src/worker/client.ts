import * as Comlink from 'comlink';
import type { MatmulShape } from '../gpu/reference';
import type { BenchmarkRow, ComputeInfo, GenerateOptions, TestMode } from './api';
import type { ExposedCompute } from './compute.worker';
import workerUrl from './compute.worker.ts?worker&url';
import './comlink-errors';
import { spawnModuleWorker } from './spawn';

/**
 * The main thread's handle on the compute Worker. Inputs are transferred to the worker: after
 * `matmul(a, b, …)` the caller's `a` and `b` are detached (byteLength 0), which is what saves
 * a copy of every shard. Pass copies if you still need them.
 */
export class ComputeClient {
  readonly #worker: Worker;
  readonly #remote: Comlink.Remote<ExposedCompute>;

  /** Starts the compute Worker (from any origin: see spawn.ts), or wraps the one given. */
  constructor(worker?: Worker) {
    this.#worker = worker ?? spawnModuleWorker(workerUrl, 'tessel-compute');
    this.#remote = Comlink.wrap<ExposedCompute>(this.#worker);
  }

  /** The adapter and the tile in use; dispatches nothing on the GPU. */
  info(): Promise<ComputeInfo> {
    return this.#remote.info();
  }

  /** Measures and remembers the best tile for this adapter (GPU work: only after consent). */
  tune(): Promise<ComputeInfo> {
    return this.#remote.tune();
  }

  matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array> {
    const transfer = a.buffer === b.buffer ? [a.buffer] : [a.buffer, b.buffer];
    return this.#remote.matmul(Comlink.transfer(a, transfer as ArrayBuffer[]), b, shape);
  }

  benchmark(sizes?: number[], runs?: number): Promise<BenchmarkRow[]> {
    return this.#remote.benchmark(sizes, runs);
  }

  /** Sends a model (safetensors bytes, transferred) and its config; resolves with its digest. */
  loadModel(file: Uint8Array, config: unknown): Promise<string> {
    return this.#remote.loadModel(Comlink.transfer(file, [file.buffer as ArrayBuffer]), config);
  }

  /** Last-position logits of `batch` sequences of `seq` tokens (tokens are transferred). */
  infer(digest: string, tokens: Uint32Array, batch: number, seq: number): Promise<Float32Array> {
    return this.#remote.infer(
      digest,
      Comlink.transfer(tokens, [tokens.buffer as ArrayBuffer]),
      batch,
      seq,
    );
  }

  /** Logits at positions [from, seq) of each sequence (tokens are transferred). */
  logitsFrom(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array> {
    return this.#remote.logitsFrom(
      digest,
      Comlink.transfer(tokens, [tokens.buffer as ArrayBuffer]),
      batch,
      seq,
      from,
    );
  }

  /** `steps` generated tokens per sequence, batch × steps (tokens are transferred). */
  generate(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array> {
    return this.#remote.generate(
      digest,
      Comlink.transfer(tokens, [tokens.buffer as ArrayBuffer]),
      batch,
      seq,
      options,
    );
  }

  hasModel(digest: string): Promise<boolean> {
    return this.#remote.hasModel(digest);
  }

  simulateDeviceLoss(): Promise<void> {
    return this.#remote.simulateDeviceLoss();
  }

  /** Test hook: makes this tab's worker cheat, hang or lose its device (see TestMode). */
  setTestMode(mode: TestMode): Promise<void> {
    return this.#remote.setTestMode(mode);
  }

  terminate(): void {
    this.#remote[Comlink.releaseProxy]();
    this.#worker.terminate();
  }
}
