import * as Comlink from 'comlink';
import type { MatmulShape } from '../reference/matmul';
import type {
  BenchmarkRow,
  CheckpointFileMap,
  ComputeInfo,
  EmbedRequest,
  EngineKind,
  GenerateOptions,
  GenerateRequest,
  Generation,
  ModelInfo,
  ScoreRequest,
  TestMode,
  TokenScores,
} from './api';
import type { ExposedCompute } from './compute.worker';
import workerUrl from './compute.worker.ts?worker&url';
import './comlink-errors';
import { spawnModuleWorker } from './spawn';

/** A call cut short because its Worker was recycled (its signal aborted, or another call's). */
export class WorkerRecycledError extends Error {
  override readonly name = 'WorkerRecycledError';
  readonly code = 'recycled';
}

/**
 * The main thread's handle on the compute Worker. Inputs are transferred to the worker: after
 * `matmul(a, b, …)` the caller's `a` and `b` are detached (byteLength 0), which is what saves
 * a copy of every shard. Pass copies if you still need them.
 *
 * A GPU dispatch cannot be interrupted from outside, so cancelling (`cancellable`) recycles the
 * Worker: it is terminated, its device with it, and a fresh one starts for the next call.
 */
export class ComputeClient {
  readonly #spawn: () => Worker;
  #worker: Worker;
  #remote: Comlink.Remote<ExposedCompute>;
  /** Rejects every call in flight on the current Worker once it is recycled (comlink calls to
   * a terminated Worker would never settle). */
  #gone!: { promise: Promise<never>; reject: (e: Error) => void };
  /** Workers recycled so far. */
  recycles = 0;
  /** The engine asked for, so a recycled Worker computes on it too. */
  #engine: EngineKind | undefined;

  /** Starts the compute Worker (from any origin: see spawn.ts), or wraps the one given (which
   * is then also how a recycled one is replaced: pass a factory to make fresh ones). */
  constructor(worker?: Worker | (() => Worker)) {
    this.#spawn =
      typeof worker === 'function' ? worker : () => spawnModuleWorker(workerUrl, 'tessel-compute');
    this.#worker = worker instanceof Worker ? worker : this.#spawn();
    this.#remote = Comlink.wrap<ExposedCompute>(this.#worker);
    this.#arm();
  }

  #arm() {
    let reject!: (e: Error) => void;
    const promise = new Promise<never>((_, r) => {
      reject = r;
    });
    promise.catch(() => {}); // nobody may be waiting
    this.#gone = { promise, reject };
  }

  /** A call on the current Worker that fails, instead of hanging, if the Worker is recycled. */
  #call<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.#gone.promise]);
  }

  /**
   * Runs `fn` (calls on this client) so that `signal` can stop it: on abort the Worker is
   * recycled and the returned promise rejects with the signal's reason.
   */
  async cancellable<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.recycle(`cancelled: ${String(signal.reason?.message ?? signal.reason)}`);
        reject(signal.reason);
      };
    });
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([fn(), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Terminates the Worker (and its GPU device) and starts a fresh one; calls in flight fail
   * with WorkerRecycledError. Loaded models are gone: callers load them again. */
  recycle(why = 'recycled'): void {
    this.#gone.reject(new WorkerRecycledError(`the compute Worker was recycled (${why})`));
    this.#remote[Comlink.releaseProxy]();
    this.#worker.terminate();
    this.recycles++;
    this.#worker = this.#spawn();
    this.#remote = Comlink.wrap<ExposedCompute>(this.#worker);
    this.#arm();
    // Sent first, so every call after it runs on the engine this tab lends.
    if (this.#engine) this.#remote.setEngine(this.#engine).catch(() => {});
  }

  /** The engine, adapter and tile in use; computes nothing. */
  info(): Promise<ComputeInfo> {
    return this.#call(this.#remote.info());
  }

  /** Measures and remembers the best tile for this adapter (GPU work: only after consent). */
  tune(): Promise<ComputeInfo> {
    return this.#call(this.#remote.tune());
  }

  matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array> {
    const transfer = a.buffer === b.buffer ? [a.buffer] : [a.buffer, b.buffer];
    return this.#call(
      this.#remote.matmul(Comlink.transfer(a, transfer as ArrayBuffer[]), b, shape),
    );
  }

  /** Computes on `engine` from now on (also after the Worker is recycled). */
  setEngine(engine: EngineKind): Promise<ComputeInfo> {
    const previous = this.#engine;
    this.#engine = engine;
    return this.#call(this.#remote.setEngine(engine)).catch((e) => {
      if (this.#engine === engine) this.#engine = previous;
      throw e;
    });
  }

  benchmark(sizes?: number[], runs?: number, engine?: EngineKind): Promise<BenchmarkRow[]> {
    return this.#call(this.#remote.benchmark(sizes, runs, engine));
  }

  /**
   * Sends a checkpoint folder (files by path in the folder) to the Worker, which checks and
   * keeps it; resolves with what it is. The files' buffers are transferred: afterwards the
   * caller's arrays are detached (byteLength 0), so store or hash them first, or pass copies.
   * Rejects with CheckpointError or TokenizerError (by `name`, with `code`).
   */
  loadModel(files: CheckpointFileMap): Promise<ModelInfo> {
    const buffers = [...new Set(Object.values(files).map((f) => f.buffer as ArrayBuffer))];
    return this.#call(this.#remote.loadModel(Comlink.transfer(files, buffers)));
  }

  /** Forgets a loaded model and frees its weights in the Worker. */
  unloadModel(digest: string): Promise<void> {
    return this.#call(this.#remote.unloadModel(digest));
  }

  /** Generations, one per prompt, chat or token list (see GenerateRequest in api.ts). */
  generate(digest: string, request: GenerateRequest): Promise<Generation[]> {
    return this.#call(this.#remote.generate(digest, request));
  }

  /** One embedding per text or token list. */
  embed(digest: string, request: EmbedRequest): Promise<Float32Array[]> {
    return this.#call(this.#remote.embed(digest, request));
  }

  /** Per-token log-probabilities of each text or token list. */
  score(digest: string, request: ScoreRequest): Promise<TokenScores[]> {
    return this.#call(this.#remote.score(digest, request));
  }

  /** Logits at positions [from, seq) of each sequence: batch × (seq − from) × vocab (tokens
   * are transferred). */
  logits(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array> {
    return this.#call(
      this.#remote.logits(
        digest,
        Comlink.transfer(tokens, [tokens.buffer as ArrayBuffer]),
        batch,
        seq,
        from,
      ),
    );
  }

  /** `options.steps` generated tokens per sequence, batch × steps (tokens are transferred). */
  generateTokens(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array> {
    return this.#call(
      this.#remote.generateTokens(
        digest,
        Comlink.transfer(tokens, [tokens.buffer as ArrayBuffer]),
        batch,
        seq,
        options,
      ),
    );
  }

  hasModel(digest: string): Promise<boolean> {
    return this.#call(this.#remote.hasModel(digest));
  }

  simulateDeviceLoss(): Promise<void> {
    return this.#call(this.#remote.simulateDeviceLoss());
  }

  /** Test hook: makes this tab's worker cheat, hang or lose its device (see TestMode). A
   * recycled Worker starts without one, as a GPU reset would. */
  setTestMode(mode: TestMode): Promise<void> {
    return this.#call(this.#remote.setTestMode(mode));
  }

  terminate(): void {
    this.#remote[Comlink.releaseProxy]();
    this.#worker.terminate();
  }
}
