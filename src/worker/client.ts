import * as Comlink from 'comlink';
import type { ComputeApi, ComputeInfo, EngineKind } from './api';
import workerUrl from './compute.worker.ts?worker&url';
import './comlink-errors';
import type { ComputeFaults } from './faults';
import {
  COMPUTE_METHODS,
  FAULT_METHODS,
  markTransfers,
  remoteClass,
  remoteObject,
  ruleOf,
  SEND,
} from './methods';
import { type ComputeSpawnOptions, computeWorkerName, spawnModuleWorker } from './spawn';

/** A call cut short because its Worker was recycled (its signal aborted, or another call's). */
export class WorkerRecycledError extends Error {
  override readonly name = 'WorkerRecycledError';
  readonly code = 'recycled';
}

export interface ComputeClientOptions extends ComputeSpawnOptions {
  /** Starts a compute Worker; called again for each recycle. Default: the bundled Worker (from
   * any origin: see spawn.ts), named by `computeWorkerName` so it knows about `faults`. */
  spawn?: () => Worker;
}

type RemoteMethods = Record<string, (...args: unknown[]) => Promise<unknown>>;

/**
 * The main thread's handle on the compute Worker: ComputeApi's methods, each generated from its
 * entry in COMPUTE_METHODS (src/worker/methods.ts), which also says which arguments are
 * transferred: after `matmul(a, b, …)` the caller's `a` and `b` are detached (byteLength 0),
 * which is what saves a copy of every shard. Pass copies if you still need them.
 *
 * A GPU dispatch cannot be interrupted from outside, so cancelling (`cancellable`) recycles the
 * Worker: it is terminated, its device with it, and a fresh one starts for the next call.
 */
export class ComputeClient extends remoteClass<ComputeApi>(COMPUTE_METHODS) {
  readonly #spawn: () => Worker;
  #worker: Worker;
  #remote: Comlink.Remote<RemoteMethods>;
  /** Rejects every call in flight on the current Worker once it is recycled (comlink calls to
   * a terminated Worker would never settle). */
  #gone!: { promise: Promise<never>; reject: (e: Error) => void };
  /** Workers recycled so far. */
  recycles = 0;
  /** The engine asked for, so a recycled Worker computes on it too. */
  #engine: EngineKind | undefined;
  /**
   * Fault injection (src/worker/faults.ts), present only when the Worker was spawned with
   * `faults`. A recycled Worker starts honest again, as a GPU reset would.
   */
  readonly faults: ComputeFaults | undefined;

  /** Starts the compute Worker (see ComputeClientOptions). */
  constructor(options: ComputeClientOptions = {}) {
    super();
    const faults = options.faults ?? false;
    this.#spawn =
      options.spawn ?? (() => spawnModuleWorker(workerUrl, computeWorkerName({ faults })));
    this.#worker = this.#spawn();
    this.#remote = Comlink.wrap<RemoteMethods>(this.#worker);
    this.#arm();
    this.faults = faults
      ? remoteObject<ComputeFaults>(FAULT_METHODS, (method, args) => this[SEND](method, args))
      : undefined;
  }

  #arm() {
    let reject!: (e: Error) => void;
    const promise = new Promise<never>((_, r) => {
      reject = r;
    });
    promise.catch(() => {}); // nobody may be waiting
    this.#gone = { promise, reject };
  }

  /** Sends one call of a table's method to the current Worker, transferring by its rule; fails,
   * instead of hanging, if the Worker is recycled meanwhile. */
  override [SEND](method: string, args: unknown[]): Promise<unknown> {
    markTransfers(ruleOf(COMPUTE_METHODS, method) ?? ruleOf(FAULT_METHODS, method), args);
    const call = this.#remote[method] as unknown as (...a: unknown[]) => Promise<unknown>;
    return Promise.race([call(...args), this.#gone.promise]);
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
    this.#remote = Comlink.wrap<RemoteMethods>(this.#worker);
    this.#arm();
    // Sent first, so every call after it runs on the engine this tab lends.
    if (this.#engine) this[SEND]('setEngine', [this.#engine]).catch(() => {});
  }

  /** Computes on `engine` from now on (also after the Worker is recycled). */
  override setEngine(engine: EngineKind): Promise<ComputeInfo> {
    const previous = this.#engine;
    this.#engine = engine;
    return (this[SEND]('setEngine', [engine]) as Promise<ComputeInfo>).catch((e) => {
      if (this.#engine === engine) this.#engine = previous;
      throw e;
    });
  }

  terminate(): void {
    this.#remote[Comlink.releaseProxy]();
    this.#worker.terminate();
  }
}
