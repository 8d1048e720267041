import { CPU_MAX_BINDING_BYTES, type CpuSummary, cpuIdentity } from '../cpu/identity';
import type { CpuKernels, CpuOptions } from '../cpu/kernels';
import { autotune, MemoryTuneStore, median, rememberedTile, type TuneStore } from '../gpu/autotune';
import type { GpuContext } from '../gpu/context';
import { type AcquireOptions, type AdapterSummary, adapterIdentity } from '../gpu/device';
import { GpuError, type GpuErrorCode } from '../gpu/errors';
import { DEFAULT_TILE, Matmul, type TileConfig } from '../gpu/matmul';
import type {
  CheckpointFileMap,
  EmbedRequest,
  GenerateOptions,
  GenerateRequest,
  Generation,
  ModelInfo,
  ScoreRequest,
  TokenScores,
} from '../model/hf/runtime-types';
import type { HfSession } from '../model/hf/session';
import type { MatmulShape } from '../reference/matmul';
import { DeviceKeeper } from './device-keeper';
import { ModelHost } from './model-host';

export { RequestError } from '../model/hf/request-error';
export type {
  ChatMessage,
  CheckpointFileMap,
  EmbedRequest,
  GenerateOptions,
  GenerateRequest,
  Generation,
  ModelInfo,
  ScoreRequest,
  TokenScores,
} from '../model/hf/runtime-types';

/** What computes: the WebGPU kernels (src/gpu) or the WebAssembly SIMD ones (src/cpu). */
export type EngineKind = 'webgpu' | 'cpu';

/** What `info()` reports about the worker's engines. */
export interface ComputeInfo {
  /** The engine shards run on now (`setEngine`). */
  engine: EngineKind;
  /** That engine and what runs it, e.g. "webgpu:nvidia/ampere" or "cpu:wasm-fma": sent with
   * work requests, and the identity redundancy compares ("different adapters"). */
  identity: string;
  /** Largest input or output of one call on that engine, bytes (owners size shards to fit). */
  maxBindingBytes: number;
  /** The WebGPU adapter; undefined where there is none (then `gpuError` says why). */
  adapter?: AdapterSummary;
  gpuError?: { code: GpuErrorCode; message: string };
  /** The CPU engine, once started (`setEngine('cpu')` or a CPU benchmark). */
  cpu?: CpuSummary;
  /** Kernel calls the CPU engine has run: 0 means no CPU work has run. */
  cpuCalls: number;
  tile: TileConfig;
  /** True when the tile came from a measurement on this adapter (now or cached earlier); until
   * `tune()` has run once on an adapter, kernels use the default tile. */
  tuned: boolean;
  deviceLosses: number;
  /** Command buffers this Worker has submitted to the GPU, over all its devices: 0 means no GPU
   * work has run (acquiring an adapter and a device dispatches nothing). */
  gpuSubmits: number;
}

export interface BenchmarkRow {
  engine: EngineKind;
  n: number;
  ms: number; // median wall time of dispatch + readback
  gflops: number;
}

/**
 * Test-only switches, so end-to-end tests can play a cheating, hung or crashing contributor with
 * the real page. Nothing in the app sets them.
 */
export interface TestMode {
  /** perturb: one element pushed far past the error bound (a generated token: another one);
   * garbage: random numbers; other-shard: the previous shard's result (the first perturbed).
   * Applies to matmul, last-position `logits` (a shard's result) and `generateTokens` alike,
   * never to the teacher-forced logits an owner checks with. */
  cheat?: 'perturb' | 'garbage' | 'other-shard';
  /** Never finish a matmul (a hung GPU). */
  stall?: boolean;
  /** Take this much longer over every matmul (a slow GPU), ms. */
  delayMs?: number;
  /** Lose the device in the middle of the next matmul (a driver reset). */
  loseDeviceOnNext?: boolean;
}

/**
 * The compute API a contributor tab's Worker exposes through comlink. Inputs and outputs are
 * Float32Arrays that cross the thread boundary by transfer (see src/worker/client.ts).
 */
export interface ComputeApi {
  /** The engines, the adapter and the tile in use. Computes nothing: safe before consent. */
  info(): Promise<ComputeInfo>;
  /**
   * Computes on `engine` from now on. Starting the CPU engine compiles its WebAssembly and
   * starts its threads (no computation). Rejects where the engine cannot run here.
   */
  setEngine(engine: EngineKind): Promise<ComputeInfo>;
  /**
   * Measures the tile candidates on this adapter (about 2 s on SwiftShader) and remembers the
   * fastest, unless one was remembered before. GPU work: call it only once the user has said so.
   */
  tune(): Promise<ComputeInfo>;
  /** C = A·B (row-major). Rejects with GpuError codes: invalid-argument, too-large, device-lost. */
  matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array>;
  /** Square matmuls at each size on `engine` (default: the current one), median of `runs`
   * after a warm-up. */
  benchmark(sizes?: number[], runs?: number, engine?: EngineKind): Promise<BenchmarkRow[]>;
  /**
   * Loads and checks a Hugging Face checkpoint folder (see CheckpointFileMap) and keeps it, by
   * its content digest; its weights go to the current engine at its first call there (and
   * again after setEngine or a lost device). Rejects with CheckpointError (the checkpoint) or
   * TokenizerError (tokenizer.json, tokenizer_config.json, chat_template.jinja).
   */
  loadModel(files: CheckpointFileMap): Promise<ModelInfo>;
  /** Whether a model with this digest is loaded (so nobody sends it again). */
  hasModel(digest: string): Promise<boolean>;
  /** Forgets a model and frees its weights on every engine (nothing when none is loaded). */
  unloadModel(digest: string): Promise<void>;
  /** Generations, one per prompt (see GenerateRequest); RequestError for a bad request. */
  generate(digest: string, request: GenerateRequest): Promise<Generation[]>;
  /** One embedding (ModelInfo.hiddenSize floats) per input, pooled as the checkpoint says. */
  embed(digest: string, request: EmbedRequest): Promise<Float32Array[]>;
  /** Per-token log-probabilities of each input. */
  score(digest: string, request: ScoreRequest): Promise<TokenScores[]>;
  /**
   * Low level, for the mesh's inference kind: logits at positions [from, seq) of `batch`
   * sequences of `seq` token ids: batch × (seq − from) × vocab floats. A test cheat
   * (setTestMode) applies only to last-position calls (from = seq − 1, a shard's result),
   * never to the teacher-forced ones an owner checks generated tokens with.
   */
  logits(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array>;
  /**
   * Low level: `options.steps` new token ids per prompt (batch × steps), greedy at temperature
   * 0, else sequence i samples with a generator seeded by options.seeds[i] (src/model/sample.ts
   * semantics, which src/jobs/token-check.ts replays).
   */
  generateTokens(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array>;

  /** Test hook: loses the device as a driver reset would; the next call gets a new one. */
  simulateDeviceLoss(): Promise<void>;
  /** Test hook: see TestMode. */
  setTestMode(mode: TestMode): Promise<void>;
}

export interface ComputeApiOptions {
  device?: AcquireOptions;
  /** Where autotune results persist; IndexedDB in the browser worker. */
  tuneStore?: TuneStore;
  /** Use this tile and never tune (tests, or an embedder that knows best). */
  tile?: TileConfig;
  /** The engine to start on (default `webgpu`). */
  engine?: EngineKind;
  /** The CPU engine's threads and how to start them (Node passes src/cpu/node-threads.ts). */
  cpu?: CpuOptions;
}

/** Builds the API around one DeviceKeeper; the worker entry exposes the result with comlink. */
export function createComputeApi(options: ComputeApiOptions = {}): ComputeApi & {
  dispose(): Promise<void>;
} {
  const keeper = new DeviceKeeper(options.device);
  const store = options.tuneStore ?? new MemoryTuneStore();
  let tile = options.tile ?? DEFAULT_TILE;
  let tuned = false;
  let test: TestMode = {};
  let previous: { inputs: string; out: Float32Array | Uint32Array } | undefined;
  let submitsBefore = 0; // by devices lost since
  let live: GpuContext | undefined;
  let engine: EngineKind = options.engine ?? 'webgpu';
  let cpu: Promise<CpuKernels> | undefined;
  let cpuCalls = 0;
  /** The CPU engine, started once (a failed start is retried by the next call). */
  function cpuEngine(): Promise<CpuKernels> {
    if (!cpu) {
      cpu = import('../cpu/kernels').then((m) => m.CpuKernels.create(options.cpu));
      cpu.catch(() => {
        cpu = undefined;
      });
    }
    return cpu;
  }
  const host = new ModelHost(keeper, cpuEngine);
  /** Runs `fn` on the model's session on the current engine (see ModelHost.run). */
  function onEngine<T>(
    digest: string,
    generates: boolean,
    fn: (s: HfSession) => Promise<T>,
  ): Promise<T> {
    if (engine === 'cpu') cpuCalls++;
    return host.run(engine, digest, generates, fn);
  }
  if (!options.tile) {
    // A fresh device starts from what was measured before on this adapter; measuring is tune()'s.
    keeper.onContext = async (ctx) => {
      submitsBefore += live?.submits ?? 0;
      live = ctx;
      const remembered = await rememberedTile(ctx, store);
      tile = remembered ?? DEFAULT_TILE;
      tuned = remembered !== undefined;
    };
  } else {
    keeper.onContext = async (ctx) => {
      submitsBefore += live?.submits ?? 0;
      live = ctx;
    };
  }

  function cheat<T extends Float32Array | Uint32Array>(
    kind: NonNullable<TestMode['cheat']>,
    honest: T,
    inputs: string,
    range: number, // tokens: the vocabulary size; floats: 0
  ): T {
    const last = previous;
    previous = { inputs, out: honest.slice() };
    const random = () => (range ? Math.floor(Math.random() * range) : Math.random() * 2 - 1);
    if (kind === 'garbage') return honest.map(random) as T;
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
      return last.out as T;
    }
    const out = honest.slice() as T;
    const i = Math.floor(Math.random() * out.length);
    out[i] = range ? (out[i]! + 1) % range : out[i]! + 1 + Math.abs(out[i]!);
    return out;
  }

  /** A test cheat, or the honest answer. */
  async function maybeCheat<T extends Float32Array | Uint32Array>(
    inputs: () => string,
    run: () => Promise<T>,
    range = 0,
  ): Promise<T> {
    // A cheat must recognise a shard it saw before to return another one's result.
    const seen = test.cheat ? inputs() : '';
    if (test.stall) await new Promise(() => {});
    if (test.delayMs) await new Promise((r) => setTimeout(r, test.delayMs));
    const out = await run();
    return test.cheat ? cheat(test.cheat, out, seen, range) : out;
  }

  /** Median ms of `runs` CPU matmuls of n³ after a warm-up (inputs copied in each time, as a
   * shard's are). */
  async function timeCpu(a: Float32Array, b: Float32Array, n: number, runs: number) {
    const k = await cpuEngine();
    await k.matmul(a, b, { m: n, k: n, n });
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await k.matmul(a, b, { m: n, k: n, n });
      times.push(performance.now() - t0);
    }
    cpuCalls += runs + 1;
    return median(times);
  }

  return {
    async info() {
      let gpu: Pick<ComputeInfo, 'adapter' | 'gpuError' | 'gpuSubmits'>;
      try {
        gpu = await keeper.use(async (ctx) => ({
          adapter: ctx.summary,
          gpuSubmits: submitsBefore + ctx.submits,
        }));
      } catch (e) {
        const code: GpuErrorCode = isCode(e) ? e.code : 'webgpu-unavailable';
        gpu = {
          gpuError: { code, message: e instanceof Error ? e.message : String(e) },
          gpuSubmits: submitsBefore,
        };
      }
      const cpuSummary = (await cpu?.catch(() => undefined))?.summary;
      const onCpuNow = engine === 'cpu' && cpuSummary;
      return {
        engine,
        identity: onCpuNow
          ? cpuIdentity(cpuSummary)
          : gpu.adapter
            ? adapterIdentity(gpu.adapter)
            : 'webgpu:unavailable',
        maxBindingBytes: onCpuNow
          ? CPU_MAX_BINDING_BYTES
          : (gpu.adapter?.limits.maxStorageBufferBindingSize ?? 0),
        ...gpu,
        ...(cpuSummary ? { cpu: cpuSummary } : {}),
        cpuCalls,
        tile,
        tuned,
        deviceLosses: keeper.losses,
      };
    },

    async setEngine(kind) {
      if (kind !== 'webgpu' && kind !== 'cpu') {
        throw new GpuError('invalid-argument', `no engine ${JSON.stringify(kind)}`);
      }
      // Set at once, so a call sent right after this one runs on the new engine; put back if
      // the engine cannot start here.
      const previous = engine;
      engine = kind;
      if (kind === 'cpu') {
        await cpuEngine().catch((e) => {
          engine = previous;
          throw e;
        });
      }
      // Models live on the current engine: the one left frees its copies (they load again
      // from the kept checkpoints if it is chosen again).
      if (previous !== kind) await host.release(previous);
      return this.info();
    },

    async tune() {
      if (!options.tile && !tuned) {
        const r = await keeper.use((ctx) => autotune(ctx, { store }));
        tile = r.tile;
        tuned = true;
      }
      return this.info();
    },

    async matmul(a, b, shape) {
      if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) {
        throw new GpuError('invalid-argument', 'matmul takes Float32Array inputs');
      }
      return maybeCheat(
        () => fingerprint(a, b),
        async () => {
          if (engine === 'cpu') {
            cpuCalls++;
            return (await cpuEngine()).matmul(a, b, shape);
          }
          const run = keeper.use((ctx) => new Matmul(ctx, tile).run(a, b, shape));
          if (test.loseDeviceOnNext) {
            test = { ...test, loseDeviceOnNext: false };
            await keeper.simulateLoss();
          }
          return run;
        },
      );
    },

    async benchmark(sizes = [256, 512], runs = 3, on = engine) {
      const rows: BenchmarkRow[] = [];
      for (const n of sizes) {
        if (!Number.isInteger(n) || n < 1 || n > 4096) {
          throw new GpuError('invalid-argument', `benchmark size ${n} is not in 1..4096`);
        }
        const a = new Float32Array(n * n).map((_, i) => (i % 17) / 17 - 0.5);
        const b = new Float32Array(n * n).map((_, i) => (i % 13) / 13 - 0.5);
        const ms = await (on === 'cpu'
          ? timeCpu(a, b, n, runs)
          : keeper.use(async (ctx) => {
              const p = await new Matmul(ctx, tile).prepare(a, b, { m: n, k: n, n });
              try {
                await p.run();
                const times: number[] = [];
                for (let i = 0; i < runs; i++) {
                  const t0 = performance.now();
                  await p.run();
                  times.push(performance.now() - t0);
                }
                return median(times);
              } finally {
                p.dispose();
              }
            }));
        rows.push({ engine: on, n, ms, gflops: (2 * n ** 3) / (ms * 1e6) });
      }
      return rows;
    },

    loadModel: (files) => host.load(files),

    async unloadModel(digest) {
      await host.unload(digest);
    },

    async generate(digest, request) {
      return onEngine(digest, true, (s) => s.generate(request));
    },

    async embed(digest, request) {
      return onEngine(digest, false, (s) => s.embed(request));
    },

    async score(digest, request) {
      return onEngine(digest, false, (s) => s.score(request));
    },

    async logits(digest, tokens, batch, seq, from) {
      host.model(digest);
      const run = () => onEngine(digest, false, (s) => s.logits(tokens, batch, seq, from));
      // A shard's result is its last position's logits; the owner's teacher-forced check of
      // generated tokens (from < seq − 1) never cheats, whatever this tab's test mode.
      if (from !== seq - 1) return run();
      return maybeCheat(() => fingerprint(tokens), run);
    },

    async generateTokens(digest, tokens, batch, seq, options) {
      const m = host.model(digest);
      return maybeCheat(
        () => fingerprint(tokens),
        () => onEngine(digest, true, (s) => s.generateTokens(tokens, batch, seq, options)),
        m.info.vocab,
      );
    },

    async hasModel(digest) {
      return host.has(digest);
    },

    simulateDeviceLoss: () => keeper.simulateLoss(),
    async setTestMode(mode) {
      test = { ...mode };
    },
    async dispose() {
      const k = await cpu?.catch(() => undefined);
      k?.dispose();
      await keeper.dispose();
    },
  };
}

function fingerprint(...arrays: (Float32Array | Uint32Array)[]): string {
  let s = 0;
  for (const [k, x] of arrays.entries()) {
    for (let i = 0; i < x.length; i += 7) s += (k % 2 ? -1 : 1) * x[i]! * (i + 1);
  }
  return `${arrays.map((x) => x.length).join(':')}:${s}`;
}

function isCode(e: unknown): e is { code: GpuErrorCode } {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string';
}
