import type { CpuKernels } from '../cpu/kernels';
import type { GpuContext } from '../gpu/context';
import { filesFromMap } from '../model/hf/files';
import { type HfModel, loadHfModel } from '../model/hf/model';
import { RequestError } from '../model/hf/request-error';
import { CpuHfModel } from '../model/hf/run-cpu';
import { GpuHfModel } from '../model/hf/run-gpu';
import type { CheckpointFileMap, ModelInfo } from '../model/hf/runtime-types';
import { HfSession } from '../model/hf/session';
import type { DeviceKeeper } from './device-keeper';

type Engine = 'webgpu' | 'cpu';

/**
 * The Worker's loaded models and where their weights live. A model is kept as its checked
 * checkpoint (in this Worker's memory) and put on the current engine at its first call there:
 * on the GPU once per device (a lost device takes the weights along; the next call uploads them
 * again), on the CPU engine once. Switching engine frees the other engine's copies.
 *
 * The CPU engine's memory is a stack: a model's KV cache goes above its weights, so only the
 * model loaded there last can open a generation. A generation on another one frees the models
 * above it first (they load again at their next call).
 */
export class ModelHost {
  readonly #models = new Map<string, HfModel>();
  /** CPU sessions in load order (the engine's stack order). */
  readonly #cpu = new Map<string, Promise<HfSession>>();
  /** GPU sessions of the device they were uploaded to. */
  #gpu: { ctx: GpuContext; sessions: Map<string, Promise<HfSession>> } | undefined;

  constructor(
    readonly keeper: DeviceKeeper,
    readonly cpuEngine: () => Promise<CpuKernels>,
  ) {}

  /** Loads and keeps a checkpoint folder; a folder already loaded keeps its first copy. */
  async load(files: CheckpointFileMap): Promise<ModelInfo> {
    if (typeof files !== 'object' || files === null || Array.isArray(files)) {
      throw new RequestError('invalid-request', 'a model is an object of files by name');
    }
    const map = new Map<string, Uint8Array>();
    for (const [name, bytes] of Object.entries(files)) {
      if (!(bytes instanceof Uint8Array)) {
        throw new RequestError('invalid-request', `file ${JSON.stringify(name)} is not bytes`);
      }
      map.set(name, bytes);
    }
    const model = await loadHfModel(filesFromMap(map));
    const known = this.#models.get(model.info.digest);
    if (known) return known.info;
    this.#models.set(model.info.digest, model);
    return model.info;
  }

  has(digest: string): boolean {
    return this.#models.has(digest);
  }

  /** The loaded model, or RequestError('unknown-model'). */
  model(digest: string): HfModel {
    const m = this.#models.get(digest);
    if (!m) throw new RequestError('unknown-model', `no model ${String(digest)} is loaded`);
    return m;
  }

  /** Forgets a model and frees its weights on both engines. */
  async unload(digest: string): Promise<void> {
    this.#models.delete(digest);
    await this.#popCpu(digest);
    const gpu = this.#gpu;
    const s = gpu?.sessions.get(digest);
    if (gpu && s) {
      gpu.sessions.delete(digest);
      await s.then((x) => x.dispose()).catch(() => {});
    }
  }

  /** Frees every model's copy on `engine` (the engine just left); the checkpoints stay. */
  async release(engine: Engine): Promise<void> {
    if (engine === 'cpu') {
      const first = [...this.#cpu.keys()][0];
      if (first !== undefined) await this.#popCpu(first);
      return;
    }
    const gpu = this.#gpu;
    this.#gpu = undefined;
    for (const s of gpu?.sessions.values() ?? []) await s.then((x) => x.dispose()).catch(() => {});
  }

  /**
   * Runs `fn` on the model's session on `engine` (loading its weights there first if needed);
   * on the GPU inside the device keeper, so a device lost mid-call is a GpuError('device-lost')
   * and the next call gets a new device. `generates`: fn opens a generation (start).
   */
  run<T>(
    engine: Engine,
    digest: string,
    generates: boolean,
    fn: (s: HfSession) => Promise<T>,
  ): Promise<T> {
    const model = this.model(digest);
    if (engine === 'cpu') return this.#cpuSession(model, generates).then(fn);
    return this.keeper.use(async (ctx) => fn(await this.#gpuSession(ctx, model)));
  }

  async #cpuSession(model: HfModel, generates: boolean): Promise<HfSession> {
    const digest = model.info.digest;
    const keys = [...this.#cpu.keys()];
    if (generates && this.#cpu.has(digest) && keys.at(-1) !== digest) {
      // Free the models above it, so its cache can go on top of its weights.
      const above = keys[keys.indexOf(digest) + 1]!;
      await this.#popCpu(above);
    }
    let s = this.#cpu.get(digest);
    if (!s) {
      s = this.cpuEngine()
        .then((k) => CpuHfModel.load(k, model.checkpoint))
        .then((runner) => new HfSession(model, runner));
      this.#cpu.set(digest, s);
      const loading = s;
      s.catch(() => {
        if (this.#cpu.get(digest) === loading) this.#cpu.delete(digest);
      });
    }
    return s;
  }

  /** Disposes the CPU sessions from the top of the stack down to `digest`'s, inclusive. */
  async #popCpu(digest: string): Promise<void> {
    const keys = [...this.#cpu.keys()];
    const at = keys.indexOf(digest);
    if (at < 0) return;
    for (const k of keys.slice(at).reverse()) {
      const s = this.#cpu.get(k)!;
      this.#cpu.delete(k);
      await s.then((x) => x.dispose()).catch(() => {});
    }
  }

  #gpuSession(ctx: GpuContext, model: HfModel): Promise<HfSession> {
    if (this.#gpu?.ctx !== ctx) this.#gpu = { ctx, sessions: new Map() }; // a new device
    const sessions = this.#gpu.sessions;
    const digest = model.info.digest;
    let s = sessions.get(digest);
    if (!s) {
      s = GpuHfModel.load(ctx, model.checkpoint).then((runner) => new HfSession(model, runner));
      sessions.set(digest, s);
      const loading = s;
      s.catch(() => {
        if (sessions.get(digest) === loading) sessions.delete(digest);
      });
    }
    return s;
  }
}
