import { CPU_MAX_BINDING_BYTES, type CpuSummary, cpuIdentity } from '../cpu/identity';
import type { CpuKernels, CpuOptions } from '../cpu/kernels';
import { autotune, MemoryTuneStore, median, rememberedTile, type TuneStore } from '../gpu/autotune';
import type { GpuContext } from '../gpu/context';
import { type AcquireOptions, type AdapterSummary, adapterIdentity } from '../gpu/device';
import { GpuError, type GpuErrorCode } from '../gpu/errors';
import { DEFAULT_TILE, Matmul, type TileConfig } from '../gpu/matmul';
import type { MatmulShape } from '../gpu/reference';
import { CpuGpt } from '../model/gpt-cpu';
import { GpuGpt } from '../model/gpt-gpu';
import { type LoadedModel, loadGpt } from '../model/load';
import { generateBatch } from '../model/sample';
import { DeviceKeeper } from './device-keeper';

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
   * Applies to matmul, inference logits and generated tokens alike. */
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
   * Validates and keeps a model (safetensors bytes + JSON config); returns its content digest.
   * Rejects with SafetensorsError or ModelConfigError for a bad file or config.
   */
  loadModel(file: Uint8Array, config: unknown): Promise<string>;
  /** Last-position logits (batch × vocab) of `batch` sequences of `seq` tokens on a loaded model. */
  infer(digest: string, tokens: Uint32Array, batch: number, seq: number): Promise<Float32Array>;
  /** Logits at positions [from, seq) of each sequence: batch × (seq − from) × vocab. */
  logitsFrom(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array>;
  /**
   * `steps` new tokens for each of `batch` prompts of `seq` tokens (batch × steps): greedy at
   * temperature 0, else sequence i samples with a generator seeded by `seeds[i]`.
   */
  generate(
    digest: string,
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array>;
  /** Whether a model with this digest is loaded (so nobody sends it again). */
  hasModel(digest: string): Promise<boolean>;
  /** Test hook: loses the device as a driver reset would; the next call gets a new one. */
  simulateDeviceLoss(): Promise<void>;
  /** Test hook: see TestMode. */
  setTestMode(mode: TestMode): Promise<void>;
}

export interface GenerateOptions {
  steps: number;
  temperature: number; // 0: greedy
  seeds: Uint32Array; // one per sequence when sampling
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
  const models = new Map<string, LoadedModel>();
  // Weights on the GPU, per device: a lost device takes them along, the next call re-uploads.
  const onGpu = new WeakMap<GpuContext, Map<string, Promise<GpuGpt>>>();
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
  const onCpu = new Map<string, Promise<CpuGpt>>();
  /** A loaded model's weights in the CPU engine's memory, copied and packed once. */
  async function onCpuEngine(digest: string): Promise<CpuGpt> {
    const m = models.get(digest);
    if (!m) throw new GpuError('invalid-argument', `no model ${digest} is loaded`);
    let model = onCpu.get(digest);
    if (!model) {
      model = cpuEngine().then((k) => CpuGpt.load(k, m.config, m.weights));
      onCpu.set(digest, model);
      model.catch(() => onCpu.delete(digest));
    }
    return model;
  }
  /** Runs `fn` on the model as the current engine holds it; on the GPU inside the device
   * keeper, so a device lost mid-pass is counted and the next call gets a new one. */
  function onEngine<T>(digest: string, fn: (model: CpuGpt | GpuGpt) => Promise<T>): Promise<T> {
    if (engine === 'cpu') {
      cpuCalls++;
      return onCpuEngine(digest).then(fn);
    }
    return keeper.use(async (ctx) => fn(await onDevice(ctx, digest)));
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

  /** A loaded model's weights on the GPU of `ctx`, uploaded once per device. */
  function onDevice(ctx: GpuContext, digest: string): Promise<GpuGpt> {
    const m = models.get(digest);
    if (!m) throw new GpuError('invalid-argument', `no model ${digest} is loaded`);
    const perCtx = onGpu.get(ctx) ?? new Map<string, Promise<GpuGpt>>();
    onGpu.set(ctx, perCtx);
    let model = perCtx.get(digest);
    if (!model) {
      model = GpuGpt.load(ctx, m.config, m.weights);
      perCtx.set(digest, model);
      model.catch(() => perCtx.delete(digest));
    }
    return model;
  }

  function checkModelCall(digest: string, tokens: unknown): LoadedModel {
    const m = models.get(digest);
    if (!m) throw new GpuError('invalid-argument', `no model ${digest} is loaded`);
    if (!(tokens instanceof Uint32Array))
      throw new GpuError('invalid-argument', 'tokens must be a Uint32Array');
    return m;
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

    async loadModel(file, config) {
      if (!(file instanceof Uint8Array))
        throw new GpuError('invalid-argument', 'model file must be bytes');
      const m = await loadGpt(file, config);
      models.set(m.digest, m);
      return m.digest;
    },

    async infer(digest, tokens, batch, seq) {
      checkModelCall(digest, tokens);
      return maybeCheat(
        () => fingerprint(tokens),
        () => onEngine(digest, (model) => model.forward(tokens, batch, seq)),
      );
    },

    async logitsFrom(digest, tokens, batch, seq, from) {
      checkModelCall(digest, tokens);
      // The owner's check: never a cheat, whatever this tab's test mode.
      return onEngine(digest, (model) => model.forward(tokens, batch, seq, from));
    },

    async generate(digest, tokens, batch, seq, options) {
      const m = checkModelCall(digest, tokens);
      if (!(options?.seeds instanceof Uint32Array)) {
        throw new GpuError('invalid-argument', 'seeds must be a Uint32Array');
      }
      return maybeCheat(
        () => fingerprint(tokens),
        () => onEngine(digest, (model) => generateBatch(model, tokens, batch, seq, options)),
        m.config.vocab,
      );
    },

    async hasModel(digest) {
      return models.has(digest);
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
