/**
 * Helper threads for the CPU engine. Each helper instantiates the same compiled module on the
 * same shared `WebAssembly.Memory`, then sleeps on a control block (Atomics.wait) until the
 * owning thread posts a kernel call into its slot; then every thread claims chunks of the call
 * from a shared counter until none is left, and the owner waits only for chunks begun. Waking a helper this way takes microseconds, where a postMessage round
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

// Control block. Two 64-bit words, each the call's id (high 32 bits) beside a count (low 32):
// [0] the next chunk to claim, [1] chunks finished; then Int32 word [FAIL] holds the id of a
// call a chunk of which failed. Then one slot a helper of SLOT_WORDS Int32 words: [0]
// generation (−1: stop), [1] the generation it has read (its ack), [2] kernel index, [3]
// argument count, [4] call id, [5] count, [6] chunk, then the arguments as float64 from word 8
// (pointers, sizes and the layernorm epsilon alike). A claim or a finish is a compare-exchange
// that holds only while the word's call id is the claimer's: a helper that wakes late, with a
// call long over, claims nothing of the next one.
const SLOT_WORDS = 64;
const ARGS_AT = 8;
const MAX_ARGS = (SLOT_WORDS - ARGS_AT) / 2;
const HEAD_WORDS = 16;
const FAIL = 4;

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
  const big = new BigInt64Array(m.control);
  const f64 = new Float64Array(m.control);
  const base = ${HEAD_WORDS} + m.index * ${SLOT_WORDS};
  let seen = 0;
  for (;;) {
    Atomics.wait(i32, base, seen);
    seen = Atomics.load(i32, base);
    if (seen < 0) return;
    const kernel = kernels[m.names[i32[base + 2]]];
    const n = i32[base + 3];
    const call = BigInt(i32[base + 4]);
    const count = i32[base + 5];
    const chunk = i32[base + 6];
    const args = Array.from(f64.subarray((base + ${ARGS_AT}) / 2, (base + ${ARGS_AT}) / 2 + n));
    Atomics.store(i32, base + 1, seen); // the slot is read: the owner may write the next call
    for (;;) {
      const v = Atomics.load(big, 0);
      if (v >> 32n !== call) break;
      const at = Number(v & 0xffffffffn) * chunk;
      if (at >= count) break;
      if (Atomics.compareExchange(big, 0, v, v + 1n) !== v) continue;
      try {
        kernel(...args, at, Math.min(count, at + chunk));
      } catch (e) {
        Atomics.store(i32, ${FAIL}, Number(call));
      }
      for (;;) {
        const d = Atomics.load(big, 1);
        if (d >> 32n !== call || Atomics.compareExchange(big, 1, d, d + 1n) === d) break;
      }
      Atomics.notify(big, 1);
    }
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

/** Chunks a call is cut into per thread: more balance the load of threads the OS runs
 * unevenly; each costs a claim (a compare-exchange) and, for the GEMM, a partial register
 * tile. */
export const CHUNKS_PER_THREAD = 4;

/** How long the owner waits for helpers before calling the pool broken. */
const HELPER_TIMEOUT = 60_000; // ms

/**
 * `threads − 1` helpers sharing `memory` with the caller's instance of `module`. A call is cut
 * into chunks that every thread, this one included, claims one at a time: a helper the OS has
 * not scheduled (a volunteer's machine is busy with its own work) claims nothing and holds
 * nothing up, since this thread does its share; only a chunk a helper has begun is waited for.
 */
export class ThreadPool {
  readonly #threads: HelperThread[];
  readonly #i32: Int32Array;
  readonly #big: BigInt64Array;
  readonly #f64: Float64Array;
  readonly #names: string[];
  readonly #generation: number[];
  /** Whether this thread may block in Atomics.wait (Workers and Node may, a page may not). */
  #canBlock = true;
  #broken: Error | undefined;
  #call = 0;

  private constructor(threads: HelperThread[], control: SharedArrayBuffer, names: string[]) {
    this.#threads = threads;
    this.#i32 = new Int32Array(control);
    this.#big = new BigInt64Array(control);
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
   * Runs kernel `fn` over [0, count) in chunks of `chunk`, each as `fn(...args(t), lo, hi)` on
   * whichever thread t claims it (t = 0: this one, through `local`); returns when every chunk
   * is done. Helpers still busy with, or not yet woken for, an earlier call sit this one out.
   */
  run(
    fn: string,
    count: number,
    chunk: number,
    args: (thread: number) => number[],
    local: (args: number[]) => void,
  ): void {
    if (this.#broken) throw this.#broken;
    const index = this.#names.indexOf(fn);
    if (index < 0) throw new Error(`no kernel ${fn}`);
    if (!(Number.isInteger(chunk) && chunk > 0)) throw new Error(`chunk ${chunk} is not a size`);
    const i32 = this.#i32;
    const big = this.#big;
    const total = Math.ceil(count / chunk);
    this.#call = (this.#call % 0x3fff_ffff) + 1;
    const call = BigInt(this.#call);
    Atomics.store(big, 0, call << 32n);
    Atomics.store(big, 1, call << 32n);
    for (let h = 0; h < this.#threads.length && total > 1; h++) {
      const base = HEAD_WORDS + h * SLOT_WORDS;
      // Its last slot not read yet (asleep, or descheduled): it sits this call out.
      if (Atomics.load(i32, base + 1) !== this.#generation[h]) continue;
      const a = args(h + 1);
      if (a.length > MAX_ARGS) throw new Error(`kernel ${fn}: too many arguments`);
      i32[base + 2] = index;
      i32[base + 3] = a.length;
      i32[base + 4] = this.#call;
      i32[base + 5] = count;
      i32[base + 6] = chunk;
      this.#f64.set(a, (base + ARGS_AT) / 2);
      this.#generation[h] = (this.#generation[h]! % 0x3fff_ffff) + 1;
      Atomics.store(i32, base, this.#generation[h]!);
      Atomics.notify(i32, base);
    }
    const mine = args(0);
    let error: unknown;
    for (;;) {
      const v = Atomics.load(big, 0);
      const at = Number(v & 0xffff_ffffn) * chunk;
      if (at >= count) break;
      if (Atomics.compareExchange(big, 0, v, v + 1n) !== v) continue;
      // After a failure the rest is claimed and skipped: the call ends, its error with it.
      if (error === undefined) {
        try {
          local([...mine, at, Math.min(count, at + chunk)]);
        } catch (e) {
          error = e;
        }
      }
      Atomics.add(big, 1, 1n); // this call's id is in the high bits until it returns
    }
    // Chunks a helper began write into memory the caller frees once this returns.
    this.#wait(call, BigInt(total));
    if (error !== undefined) throw error;
    if (Atomics.load(i32, FAIL) === this.#call) {
      throw new Error(`CPU helper thread failed in ${fn}`);
    }
  }

  /** Waits until `total` chunks of `call` have finished (those helpers began). */
  #wait(call: bigint, total: bigint): void {
    const big = this.#big;
    const deadline = performance.now() + HELPER_TIMEOUT;
    const goal = (call << 32n) | total;
    for (let done = Atomics.load(big, 1); done !== goal; done = Atomics.load(big, 1)) {
      if (performance.now() > deadline) {
        this.#broken = new Error('CPU helper threads stopped answering');
        throw this.#broken;
      }
      if (this.#canBlock) {
        try {
          Atomics.wait(big, 1, done, 100);
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
