/**
 * Helper threads for the CPU engine. Each helper instantiates the same compiled module on the
 * same shared `WebAssembly.Memory`, then sleeps on a control block (Atomics.wait) until the
 * owning thread posts a kernel call into its slot; the owner runs its own share meanwhile and
 * waits for a counter. Waking a helper this way takes microseconds, where a postMessage round
 * trip takes ~0.1 ms: a forward pass makes dozens of kernel calls, each a millisecond or less.
 */

/** A started helper thread, Web Worker or Node worker_threads alike. */
export interface HelperThread {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  terminate(): void;
}

/** Starts a helper running `source` (a classic script: see HELPER_SOURCE). */
export type SpawnHelper = (source: string) => HelperThread;

// Control block (Int32 words): [0] calls finished, [1] calls failed; then one slot a helper of
// SLOT_WORDS words: [0] generation (−1: stop), [1] kernel index, [2] argument count, then the
// arguments as float64 from word 4 (pointers, sizes and the layernorm epsilon alike).
const SLOT_WORDS = 64;
const MAX_ARGS = (SLOT_WORDS - 4) / 2;
const HEAD_WORDS = 16;

/**
 * The helper's whole program, as text so that it starts from a `blob:` URL in a browser (same
 * origin as the page or Worker that makes it, so the embed works from another origin) and with
 * `eval` in Node's worker_threads.
 */
export const HELPER_SOURCE = `
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const listen = (f) => typeof require === 'function' ? port.once('message', f) : (self.onmessage = (e) => f(e.data));
listen((m) => {
  let kernels;
  try {
    const abort = () => { throw new Error('kernel aborted'); };
    kernels = new WebAssembly.Instance(m.module, { env: { memory: m.memory, abort } }).exports;
  } catch (e) {
    port.postMessage({ error: String(e && e.stack || e) });
    return;
  }
  port.postMessage({ ok: true });
  const i32 = new Int32Array(m.control);
  const f64 = new Float64Array(m.control);
  const base = ${HEAD_WORDS} + m.index * ${SLOT_WORDS};
  let seen = 0;
  for (;;) {
    Atomics.wait(i32, base, seen);
    seen = Atomics.load(i32, base);
    if (seen < 0) return;
    try {
      const n = i32[base + 2];
      const args = Array.from(f64.subarray(base / 2 + 2, base / 2 + 2 + n));
      kernels[m.names[i32[base + 1]]](...args);
    } catch (e) {
      Atomics.add(i32, 1, 1);
    }
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0);
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

/** How long the owner waits for helpers before calling the pool broken. */
const HELPER_TIMEOUT = 60_000; // ms

/** `threads − 1` helpers sharing `memory` with the caller's instance of `module`. */
export class ThreadPool {
  readonly #threads: HelperThread[];
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #names: string[];
  readonly #generation: number[];
  /** Whether this thread may block in Atomics.wait (Workers and Node may, a page may not). */
  #canBlock = true;
  #broken: Error | undefined;

  private constructor(threads: HelperThread[], control: SharedArrayBuffer, names: string[]) {
    this.#threads = threads;
    this.#i32 = new Int32Array(control);
    this.#f64 = new Float64Array(control);
    this.#names = names;
    this.#generation = threads.map(() => 0);
  }

  /** Starts `helpers` threads on `module` and `memory`; `names`: the kernels they may run. */
  static async start(
    helpers: number,
    spawn: SpawnHelper,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    names: string[],
  ): Promise<ThreadPool> {
    const control = new SharedArrayBuffer((HEAD_WORDS + helpers * SLOT_WORDS) * 4);
    const threads: HelperThread[] = [];
    try {
      await Promise.all(
        Array.from({ length: helpers }, (_, index) => {
          const t = spawn(HELPER_SOURCE);
          threads.push(t);
          return new Promise<void>((resolve, reject) => {
            t.onMessage((data) => {
              const reply = data as { ok?: true; error?: string };
              if (reply.error) reject(new Error(`CPU helper thread: ${reply.error}`));
              else resolve();
            });
            t.post({ module, memory, control, index, names });
          });
        }),
      );
    } catch (e) {
      for (const t of threads) t.terminate();
      throw e;
    }
    return new ThreadPool(threads, control, names);
  }

  /** Threads in all, the caller's included. */
  get size(): number {
    return this.#threads.length + 1;
  }

  /**
   * Runs kernel `fn` on each part: parts[0] on this thread (through `local`), the others on
   * the helpers; returns when all are done.
   */
  run(fn: string, parts: number[][], local: (args: number[]) => void): void {
    if (this.#broken) throw this.#broken;
    const index = this.#names.indexOf(fn);
    if (index < 0) throw new Error(`no kernel ${fn}`);
    const i32 = this.#i32;
    Atomics.store(i32, 0, 0);
    Atomics.store(i32, 1, 0);
    const remote = parts.slice(1);
    for (const [h, args] of remote.entries()) {
      if (args.length > MAX_ARGS) throw new Error(`kernel ${fn}: too many arguments`);
      const base = HEAD_WORDS + h * SLOT_WORDS;
      i32[base + 1] = index;
      i32[base + 2] = args.length;
      this.#f64.set(args, base / 2 + 2);
      this.#generation[h] = (this.#generation[h]! % 0x3fff_ffff) + 1;
      Atomics.store(i32, base, this.#generation[h]!);
      Atomics.notify(i32, base);
    }
    try {
      if (parts[0]) local(parts[0]);
    } finally {
      this.#wait(remote.length);
    }
    if (Atomics.load(i32, 1) > 0) throw new Error(`CPU helper thread failed in ${fn}`);
  }

  /** Waits until `count` helper calls have finished. */
  #wait(count: number): void {
    const i32 = this.#i32;
    const deadline = performance.now() + HELPER_TIMEOUT;
    for (let done = Atomics.load(i32, 0); done < count; done = Atomics.load(i32, 0)) {
      if (performance.now() > deadline) {
        this.#broken = new Error('CPU helper threads stopped answering');
        throw this.#broken;
      }
      if (this.#canBlock) {
        try {
          Atomics.wait(i32, 0, done, 100);
        } catch {
          this.#canBlock = false; // a page's main thread: spin instead
        }
      }
    }
  }

  stop(): void {
    for (let h = 0; h < this.#threads.length; h++) {
      const base = HEAD_WORDS + h * SLOT_WORDS;
      Atomics.store(this.#i32, base, -1);
      Atomics.notify(this.#i32, base);
    }
    for (const t of this.#threads) t.terminate();
  }
}
