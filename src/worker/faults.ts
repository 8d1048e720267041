// Fault injection for tests: a contributor that cheats, hangs, slows down or loses its GPU,
// played by the real compute API with a wrapper around it. Production never builds it: the
// Worker installs it only when spawned with `faults` (see spawn.ts), Node tests wrap their API.
import type { LocalCompute } from './local-api';

/**
 * Test-only switches, so end-to-end tests can play a cheating, hung or crashing contributor with
 * the real page.
 */
export interface TestMode {
  /** perturb: one element pushed far past the error bound (a generated token: another one);
   * garbage: random numbers; other-shard: the previous shard's result (the first perturbed).
   * Applies to matmul, last-position `logits` (a shard's result) and `generateTokens` alike,
   * never to the teacher-forced logits an owner checks with. */
  cheat?: 'perturb' | 'garbage' | 'other-shard';
  /** Never finish a shard's call (a hung GPU). */
  stall?: boolean;
  /** Take this much longer over every shard's call (a slow GPU), ms. */
  delayMs?: number;
  /** Lose the device in the middle of the next matmul on the GPU engine (a driver reset). */
  loseDeviceOnNext?: boolean;
}

/** What `withFaults` adds to an API; src/worker/methods.ts has their table (FAULT_METHODS). */
export interface ComputeFaults {
  /** Plays the contributor `mode` describes from the next call on ({} = honest again). */
  setTestMode(mode: TestMode): Promise<void>;
  /** Loses the device as a driver reset would; the next call gets a new one. */
  simulateDeviceLoss(): Promise<void>;
}

/** An API with fault injection installed. */
export type FaultyCompute<T extends LocalCompute = LocalCompute> = T & ComputeFaults;

/**
 * `api` with fault injection: its shard results (matmul, a shard's logits, generated tokens)
 * go through the test mode set by `setTestMode`, and `simulateDeviceLoss` destroys its device.
 * Every other method is `api`'s own. Wrap an API before it loads models (the wrapper learns
 * each model's vocabulary from `loadModel`, so a cheat's token stays a token).
 */
export function withFaults<T extends LocalCompute>(api: T): FaultyCompute<T> {
  let mode: TestMode = {};
  /** The last shard result seen (for 'other-shard'), and a fingerprint of its inputs. */
  let previous: { inputs: string; out: Float32Array | Uint32Array } | undefined;
  const vocab = new Map<string, number>(); // digest → vocabulary size

  function cheat<R extends Float32Array | Uint32Array>(
    kind: NonNullable<TestMode['cheat']>,
    honest: R,
    inputs: string,
    range: number, // tokens: the vocabulary size; floats: 0
  ): R {
    const last = previous;
    previous = { inputs, out: honest.slice() };
    const random = () => (range ? Math.floor(Math.random() * range) : Math.random() * 2 - 1);
    if (kind === 'garbage') return honest.map(random) as R;
    // Only a result computed from other inputs counts as another shard's, and only if it is
    // wrong here: two prompts can continue with the same greedy tokens, and a right answer
    // passed off as another shard's is no cheat.
    if (
      kind === 'other-shard' &&
      last &&
      last.inputs !== inputs &&
      last.out.length === honest.length &&
      last.out.constructor === honest.constructor &&
      last.out.some((v, i) => v !== honest[i])
    ) {
      return last.out as R;
    }
    const out = honest.slice() as R;
    const i = Math.floor(Math.random() * out.length);
    out[i] = range ? (out[i]! + 1) % range : out[i]! + 1 + Math.abs(out[i]!);
    return out;
  }

  /** A shard's result as the test mode plays it: hung, late, cheated, or honest. */
  async function shard<R extends Float32Array | Uint32Array>(
    inputs: () => string,
    run: () => Promise<R>,
    range = 0,
  ): Promise<R> {
    // A cheat must recognise a shard it saw before to return another one's result.
    const seen = mode.cheat ? inputs() : '';
    const out = await slowed(run);
    return mode.cheat ? cheat(mode.cheat, out, seen, range) : out;
  }

  /** A call run as the test mode's slow or hung engine would run it. */
  async function slowed<R>(run: () => Promise<R>): Promise<R> {
    if (mode.stall) await new Promise(() => {});
    if (mode.delayMs) await new Promise((r) => setTimeout(r, mode.delayMs));
    return run();
  }

  async function loseDevice(): Promise<void> {
    const ctx = await api.gpu.context();
    ctx.device.destroy();
    await ctx.lost;
  }

  const faulty: FaultyCompute<T> = {
    ...api,
    matmul: (a, b, shape) =>
      shard(
        () => fingerprint(a, b),
        async () => {
          const lose = mode.loseDeviceOnNext && (await api.info()).engine === 'webgpu';
          // Started before the loss, so the loss lands in the middle of it.
          const run = api.matmul(a, b, shape);
          if (lose) {
            mode = { ...mode, loseDeviceOnNext: false };
            await loseDevice();
          }
          return run;
        },
      ),
    async loadModel(files) {
      const info = await api.loadModel(files);
      vocab.set(info.digest, info.vocab);
      return info;
    },
    async unloadModel(digest) {
      await api.unloadModel(digest);
      vocab.delete(digest);
    },
    logits(digest, tokens, batch, seq, from) {
      const run = () => api.logits(digest, tokens, batch, seq, from);
      // A shard's result is its last position's logits; the owner's teacher-forced check of
      // generated tokens (from < seq − 1) never cheats, whatever this tab's test mode. Nor
      // does a call on a model not loaded: it fails at once, as an honest one would.
      if (from !== seq - 1 || !vocab.has(digest)) return run();
      return shard(() => fingerprint(tokens), run);
    },
    generateTokens(digest, tokens, batch, seq, options) {
      const run = () => api.generateTokens(digest, tokens, batch, seq, options);
      const range = vocab.get(digest);
      if (range === undefined) return run();
      return shard(() => fingerprint(tokens), run, range);
    },
    // Data-set shards: slowed or hung like any other work (a cheat's tampering is played on
    // the owner's side in the unit tests, src/jobs).
    embed: (digest, request) => slowed(() => api.embed(digest, request)),
    score: (digest, request) => slowed(() => api.score(digest, request)),
    async setTestMode(next) {
      mode = { ...next };
    },
    simulateDeviceLoss: loseDevice,
  };
  return faulty;
}

/** A cheap fingerprint of a call's inputs (their lengths and a weighted sum of a sample). */
function fingerprint(...arrays: (Float32Array | Uint32Array)[]): string {
  let s = 0;
  for (const [k, x] of arrays.entries()) {
    for (let i = 0; i < x.length; i += 7) s += (k % 2 ? -1 : 1) * x[i]! * (i + 1);
  }
  return `${arrays.map((x) => x.length).join(':')}:${s}`;
}
