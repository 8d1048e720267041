/**
 * Helper threads for the CPU engine. Each helper instantiates the same compiled module on the
 * same shared `WebAssembly.Memory`, then sleeps on a control block (Atomics.wait) until the
 * owning thread posts a kernel call into its slot; then every thread claims chunks of the call
 * from a shared counter until none is left, and the owner waits only for chunks begun. Waking a
 * helper this way takes microseconds, where a postMessage round trip takes ~0.1 ms: a forward
 * pass makes dozens of kernel calls, each a millisecond or less.
 *
 * A busy machine (a volunteer's own work) deschedules threads for milliseconds at a time. The
 * owner never waits for a helper to wake: it claims every chunk nobody has begun, so a helper
 * that sleeps through a call costs that call nothing, and one that has not read its last slot
 * is not woken again until it has. What the owner does wait for is a chunk a helper began and
 * was then descheduled in: CHUNKS_PER_THREAD keeps that to a fraction of the call, and
 * CpuKernels wakes helpers only for calls long enough to pay for them (MIN_WORK_PER_THREAD).
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

/** What a pool has done since it started. */
export interface PoolStats {
  /** Calls `run`. */
  calls: number;
  /** Chunks of those calls, and how many of them this (the owner's) thread ran. */
  chunks: number;
  ownChunks: number;
  /** Helpers woken, summed over calls. */
  woken: number;
  /** Calls run on the owner's thread alone because helpers had lately cost more than they
   * gave (see ThreadPool.run). */
  alone: number;
}

/** The longest stretch of calls the owner runs alone after helpers cost it time: one call in
 * this many still tries them, so a machine that falls idle gets its threads back. */
export const MAX_BACKOFF = 64; // calls

/** Chunks a call is cut into per thread: more balance the load of threads the OS runs
 * unevenly; each costs a claim (a compare-exchange) and, for the GEMM, a partial register
 * tile. */
export const CHUNKS_PER_THREAD = 4;

/** The longest the owner spins for a helper's chunk before it sleeps (see ThreadPool's #wait). */
const SPIN_MAX = 0.5; // ms

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
  readonly #stats: PoolStats = { calls: 0, chunks: 0, ownChunks: 0, woken: 0, alone: 0 };
  /** Calls left to run on this thread alone, and the length of the next such stretch: see
   * `run`'s back-off. */
  #skip = 0;
  #backoff = 0;

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

  /** Counts since start: what the owner did itself, and how many helpers it woke. */
  get stats(): Readonly<PoolStats> {
    return { ...this.#stats };
  }

  /**
   * Runs kernel `fn` over [0, count) in chunks of `chunk`, each as `fn(...args(t), lo, hi)` on
   * whichever thread t claims it (t = 0: this one, through `local`); returns when every chunk
   * is done. At most `helpers` helpers are woken; those still busy with, or not yet woken for,
   * an earlier call sit this one out.
   *
   * Back-off: when the owner, out of chunks, waited longer for the helpers' chunks than it
   * would have taken to run them itself (a helper descheduled inside its chunk, on a machine
   * busy with other work), the next calls run on this thread alone: 1, then 2, 4, … up to
   * MAX_BACKOFF calls, until a call where the helpers gain again.
   */
  run(
    fn: string,
    count: number,
    chunk: number,
    args: (thread: number) => number[],
    local: (args: number[]) => void,
    helpers = this.#threads.length,
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
    const stats = this.#stats;
    stats.calls++;
    stats.chunks += total;
    if (this.#skip > 0 && total > 1) {
      this.#skip--;
      helpers = 0;
      stats.alone++;
    }
    const t0 = performance.now();
    let woken = 0;
    for (let h = 0; h < this.#threads.length && woken < Math.min(helpers, total - 1); h++) {
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
      woken++;
    }
    stats.woken += woken;
    const mine = args(0);
    let error: unknown;
    let own = 0;
    for (;;) {
      const v = Atomics.load(big, 0);
      const at = Number(v & 0xffff_ffffn) * chunk;
      if (at >= count) break;
      if (Atomics.compareExchange(big, 0, v, v + 1n) !== v) continue;
      // After a failure the rest is claimed and skipped: the call ends, its error with it.
      own++;
      if (error === undefined) {
        try {
          local([...mine, at, Math.min(count, at + chunk)]);
        } catch (e) {
          error = e;
        }
      }
      Atomics.add(big, 1, 1n); // this call's id is in the high bits until it returns
    }
    stats.ownChunks += own;
    // Chunks a helper began write into memory the caller frees once this returns.
    const t1 = performance.now();
    const each = own > 0 ? (t1 - t0) / own : 0;
    this.#wait(call, BigInt(total), t1 + Math.min(SPIN_MAX, 2 * each));
    // A helper that took no chunk cost nothing to wait for: only those that did are judged.
    if (woken > 0 && own < total) this.#judge(total - own, each, performance.now() - t1);
    if (error !== undefined) throw error;
    if (Atomics.load(i32, FAIL) === this.#call) {
      throw new Error(`CPU helper thread failed in ${fn}`);
    }
  }

  /** Whether helpers that ran `theirs` chunks gained the owner time, a chunk taking it `each`
   * ms, when it then waited `waited` ms for them; backs off when they did not. */
  #judge(theirs: number, each: number, waited: number): void {
    if (waited <= theirs * each) {
      this.#backoff = 0;
      return;
    }
    this.#backoff = Math.min(MAX_BACKOFF, 2 * this.#backoff || 1);
    this.#skip = this.#backoff;
  }

  /**
   * Waits until `total` chunks of `call` have finished (those helpers began): spinning until
   * `spinUntil` (ms, performance.now()), a helper's chunk begun beside the owner's last one
   * being about that far from done, then asleep. Sleeping at once would hand this core to
   * whatever else the machine runs, and on a busy machine getting it back takes a time slice.
   */
  #wait(call: bigint, total: bigint, spinUntil: number): void {
    const big = this.#big;
    const deadline = performance.now() + HELPER_TIMEOUT;
    const goal = (call << 32n) | total;
    for (let done = Atomics.load(big, 1); done !== goal; done = Atomics.load(big, 1)) {
      const now = performance.now();
      if (now > deadline) {
        this.#broken = new Error('CPU helper threads stopped answering');
        throw this.#broken;
      }
      if (this.#canBlock && now > spinUntil) {
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
