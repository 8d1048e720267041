/**
 * Helper threads for the CPU engine. Each helper instantiates the same compiled module on the
 * same shared `WebAssembly.Memory` and runs one exported kernel on a row range when asked; the
 * thread that owns the pool runs its own share meanwhile. Plain messages, no atomics: one
 * round trip per kernel call (≈ 0.1 ms) against calls of milliseconds.
 */

/** The messages a helper answers: `init` once, then `run` calls. */
type ToHelper =
  | { init: WebAssembly.Module; memory: WebAssembly.Memory }
  | { fn: string; args: number[] };
type FromHelper = { ok: true } | { error: string };

/** A started helper thread, Web Worker or Node worker_threads alike. */
export interface HelperThread {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  terminate(): void;
}

/** Starts a helper running `source` (a classic script: see HELPER_SOURCE). */
export type SpawnHelper = (source: string) => HelperThread;

/**
 * The helper's whole program, as text so that it starts from a `blob:` URL in a browser (same
 * origin as the page or Worker that makes it, so the embed works from another origin) and with
 * `eval` in Node's worker_threads.
 */
export const HELPER_SOURCE = `
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const listen = (f) => typeof require === 'function' ? port.on('message', f) : (self.onmessage = (e) => f(e.data));
let kernels;
listen((m) => {
  try {
    if (m.init) {
      const abort = () => { throw new Error('kernel aborted'); };
      kernels = new WebAssembly.Instance(m.init, { env: { memory: m.memory, abort } }).exports;
    } else {
      kernels[m.fn](...m.args);
    }
    port.postMessage({ ok: true });
  } catch (e) {
    port.postMessage({ error: String(e && e.stack || e) });
  }
});
`;

/** Browser helpers: classic Workers from a `blob:` URL of HELPER_SOURCE. */
export const spawnWebHelper: SpawnHelper = (source) => {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new Worker(url, { name: 'tessel-cpu-helper' });
  URL.revokeObjectURL(url);
  return {
    post: (m) => w.postMessage(m),
    onMessage: (f) => {
      w.onmessage = (e) => f(e.data);
    },
    terminate: () => w.terminate(),
  };
};

class Helper {
  readonly #thread: HelperThread;
  #waiting: { resolve: () => void; reject: (e: Error) => void } | undefined;
  constructor(thread: HelperThread) {
    this.#thread = thread;
    thread.onMessage((data) => {
      const w = this.#waiting;
      this.#waiting = undefined;
      const reply = data as FromHelper;
      if ('error' in reply) w?.reject(new Error(`CPU helper thread: ${reply.error}`));
      else w?.resolve();
    });
  }
  send(message: ToHelper): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#thread.post(message);
    });
  }
  terminate() {
    this.#thread.terminate();
    this.#waiting?.reject(new Error('CPU helper thread stopped'));
  }
}

/** `threads − 1` helpers sharing `memory` with the caller's instance of `module`. */
export class ThreadPool {
  readonly #helpers: Helper[];
  private constructor(helpers: Helper[]) {
    this.#helpers = helpers;
  }

  static async start(
    helpers: number,
    spawn: SpawnHelper,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
  ): Promise<ThreadPool> {
    const hs = Array.from({ length: helpers }, () => new Helper(spawn(HELPER_SOURCE)));
    try {
      await Promise.all(hs.map((h) => h.send({ init: module, memory })));
    } catch (e) {
      for (const h of hs) h.terminate();
      throw e;
    }
    return new ThreadPool(hs);
  }

  /** Threads in all, the caller's included. */
  get size(): number {
    return this.#helpers.length + 1;
  }

  /**
   * Runs `fn` on `size` parts: parts[0] on the calling thread (synchronously, through `local`),
   * the others on the helpers; resolves when all are done.
   */
  async run(fn: string, parts: number[][], local: (args: number[]) => void): Promise<void> {
    const remote = parts.slice(1).map((args, i) => this.#helpers[i]!.send({ fn, args }));
    try {
      if (parts[0]) local(parts[0]);
    } finally {
      await Promise.all(remote);
    }
  }

  stop(): void {
    for (const h of this.#helpers) h.terminate();
  }
}
