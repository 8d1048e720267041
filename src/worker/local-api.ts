import { CPU_MAX_BINDING_BYTES, cpuIdentity } from '../cpu/identity';
import type { CpuKernels, CpuOptions } from '../cpu/kernels';
import { autotune, MemoryTuneStore, median, rememberedTile, type TuneStore } from '../gpu/autotune';
import type { GpuContext } from '../gpu/context';
import { type AcquireOptions, adapterIdentity } from '../gpu/device';
import { GpuError, type GpuErrorCode } from '../gpu/errors';
import { DEFAULT_TILE, Matmul, type TileConfig } from '../gpu/matmul';
import type { HfSession } from '../model/hf/session';
import { detokenizeRows, tokenizeTexts } from '../model/hf/tokenize';
import type { BenchmarkRow, ComputeApi, ComputeInfo, EngineKind } from './api';
import { DeviceKeeper } from './device-keeper';
import { ModelHost } from './model-host';

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

/** The ComputeApi computing in this thread (the Worker's, or Node's), with what its owner needs. */
export interface LocalCompute extends ComputeApi {
  /** Stops the CPU engine's threads and releases the GPU device for good. */
  dispose(): Promise<void>;
  /** The GPU device this API computes on, across losses (faults.ts loses it on purpose). */
  readonly gpu: DeviceKeeper;
}

/** Builds the API around one DeviceKeeper; the worker entry exposes the result with comlink. */
export function createComputeApi(options: ComputeApiOptions = {}): LocalCompute {
  const keeper = new DeviceKeeper(options.device);
  const store = options.tuneStore ?? new MemoryTuneStore();
  let tile = options.tile ?? DEFAULT_TILE;
  let tuned = false;
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

  const api: LocalCompute = {
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
      return api.info();
    },

    async tune() {
      if (!options.tile && !tuned) {
        const r = await keeper.use((ctx) => autotune(ctx, { store }));
        tile = r.tile;
        tuned = true;
      }
      return api.info();
    },

    async matmul(a, b, shape) {
      if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) {
        throw new GpuError('invalid-argument', 'matmul takes Float32Array inputs');
      }
      if (engine === 'cpu') {
        cpuCalls++;
        return (await cpuEngine()).matmul(a, b, shape);
      }
      return keeper.use((ctx) => new Matmul(ctx, tile).run(a, b, shape));
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

    // The tokenizer only: no engine starts and no weights load.
    async tokenize(digest, request) {
      return tokenizeTexts(host.model(digest), request);
    },

    async detokenize(digest, rows, options) {
      return detokenizeRows(host.model(digest), rows, options);
    },

    async logits(digest, tokens, batch, seq, from) {
      host.model(digest);
      return onEngine(digest, false, (s) => s.logits(tokens, batch, seq, from));
    },

    async generateTokens(digest, tokens, batch, seq, options) {
      host.model(digest);
      return onEngine(digest, true, (s) => s.generateTokens(tokens, batch, seq, options));
    },

    async hasModel(digest) {
      return host.has(digest);
    },

    async dispose() {
      const k = await cpu?.catch(() => undefined);
      k?.dispose();
      await keeper.dispose();
    },
    gpu: keeper,
  };
  return api;
}

function isCode(e: unknown): e is { code: GpuErrorCode } {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string';
}
