import { TypedEventEmitter } from 'main-event';
import type { LocalLedger } from '../ledger/local';
import type { LedgerService } from '../ledger/service';
import { notice } from '../log/log';
import type { JobHistory } from '../mesh/job-history';
import type { MeshConfig, Mesh as MeshType } from '../mesh/mesh';
import type { ModelCache } from '../mesh/model-store';
import type { Peer } from '../peer/peer';
import type { ComputeInfo, EngineKind } from '../worker/api';
import { ComputeClient } from '../worker/client';
import { chooseEngine, deviceKey, hardwareGpu } from '../worker/engine-choice';
import { type AdapterView, adapterView, noWebGpu } from './adapter-view';
import { describeError } from './format';
import { ContributionGate } from './gate';
import { type ContributorPrefs, clampBudget, loadPrefs, savePrefs } from './prefs';
import { TabStores } from './tab-stores';

export type { AdapterView } from './adapter-view';

/** What the volunteer's controls and badge show. */
export interface SessionStatus {
  /** The volunteer switched Contribute on (the choice is remembered for the origin). */
  contributing: boolean;
  phase: 'off' | 'starting' | 'contributing' | 'paused' | 'error';
  /** Why paused, or what went wrong. */
  message?: string;
  mesh: 'none' | 'joining' | 'joined' | 'error';
  budget: number;
  pauseWhenHidden: boolean;
}

export interface SessionEvents {
  status: CustomEvent<SessionStatus>;
  adapter: CustomEvent<AdapterView>;
  /** The tab joined the mesh (a Mesh) or left it (undefined). */
  mesh: CustomEvent<MeshType | undefined>;
  /** The market's service started with the mesh (a LedgerService) or stopped (undefined). */
  ledger: CustomEvent<LedgerService | undefined>;
}

export interface SessionOptions {
  /** Where the relay is; undefined means this page works alone, without the mesh. */
  config: () => Promise<MeshConfig | undefined>;
  /** The compute Worker's client; created here by default. */
  compute?: ComputeClient;
  /** Where the volunteer's choices persist (localStorage by default). */
  storage?: Storage;
  /** The engine to lend without measuring others (`?engine=` on the page, the embed's
   * `engine`); undefined: measured. Throws ConfigError for a bad value (shown when starting). */
  engine?: () => EngineKind | undefined;
}

/**
 * One tab's contributor and researcher session: the compute Worker, the volunteer's consent,
 * and the mesh. Nothing runs on the GPU and no connection is made until the volunteer switches
 * Contribute on (or a researcher submits a job, which needs the mesh to run); switching it off
 * stops the shard in progress and leaves the mesh unless this tab's own jobs still run.
 * Views take a session as a property and listen to its typed events.
 */
export class TabSession extends TypedEventEmitter<SessionEvents> {
  readonly compute: ComputeClient;
  #prefs: ContributorPrefs;
  readonly #gate: ContributionGate;
  readonly #options: SessionOptions;
  #peer: Peer | undefined;
  #joining: Promise<Peer> | undefined;
  #meshState: SessionStatus['mesh'] = 'none';
  #phase: SessionStatus['phase'] = 'off';
  #message: string | undefined;
  #adapter: Promise<AdapterView> | undefined;
  #startedAt = 0;
  readonly #stores = new TabStores();

  constructor(options: SessionOptions) {
    super();
    this.#options = options;
    this.compute = options.compute ?? new ComputeClient();
    this.#prefs = loadPrefs(options.storage);
    this.#gate = new ContributionGate(this.#prefs.pauseWhenHidden);
    this.#gate.onChange = () => this.#emitStatus();
  }

  /** The mesh, once joined. */
  get mesh(): MeshType | undefined {
    return this.#peer?.mesh;
  }

  status(): SessionStatus {
    const paused = this.#phase === 'contributing' ? this.#gate.reason() : undefined;
    const message = paused ?? this.#message;
    return {
      contributing: this.#prefs.contribute,
      phase: paused ? 'paused' : this.#phase,
      ...(message ? { message } : {}),
      mesh: this.#meshState,
      budget: this.#prefs.budget,
      pauseWhenHidden: this.#prefs.pauseWhenHidden,
    };
  }

  /** The adapter, found without dispatching anything; with the remembered speed, if any. */
  adapter(): Promise<AdapterView> {
    this.#adapter ??= this.compute.info().then(
      (info) =>
        info.adapter || this.#forcedEngine() !== 'webgpu'
          ? adapterView(info, this.#prefs, this.#forcedEngine())
          : noWebGpu(info.gpuError?.message),
      (e): AdapterView => noWebGpu(describeError(e)),
    );
    return this.#adapter;
  }

  /**
   * Resumes what the volunteer chose on an earlier visit: contributing, if they had switched it
   * on for this origin.
   */
  async restore(): Promise<void> {
    if (this.#prefs.contribute) await this.setContributing(true);
  }

  /** Switches contributing on (measuring the adapter first, once) or off (stopping at once). */
  async setContributing(on: boolean): Promise<void> {
    this.#prefs = { ...this.#prefs, contribute: on };
    savePrefs(this.#prefs, this.#options.storage);
    if (!on) return this.#stopContributing();
    this.#phase = 'starting';
    this.#message = undefined;
    this.#emitStatus();
    try {
      const view = await this.adapter();
      if (!view.available) throw new Error(`${view.reason} ${view.advice}`);
      // Measuring (milliseconds on the CPU engine) and joining (a relay round trip or more) go
      // on together: the first shard comes sooner. Switched off meanwhile: leaving waits for
      // the join, then stops it.
      const [{ info, gflops }, mesh] = await Promise.all([this.#measure(), this.join()]);
      if (!this.#prefs.contribute) return;
      // The mesh may have started before the engine was chosen (or as a researcher's, earlier).
      mesh.setEngine(info.identity, info.maxBindingBytes);
      if (gflops) mesh.setMeasuredSpeed(gflops);
      mesh.setContributing(true);
      this.#phase = 'contributing';
      this.#startedAt = Date.now();
    } catch (e) {
      this.#phase = 'error';
      this.#message = describeError(e);
    }
    this.#emitStatus();
  }

  setBudget(budget: number): void {
    this.#prefs = { ...this.#prefs, budget: clampBudget(budget) };
    savePrefs(this.#prefs, this.#options.storage);
    this.mesh?.setBudget(this.#prefs.budget);
    this.#emitStatus();
  }

  setPauseWhenHidden(pause: boolean): void {
    this.#prefs = { ...this.#prefs, pauseWhenHidden: pause };
    savePrefs(this.#prefs, this.#options.storage);
    this.#gate.pauseWhenHidden = pause;
    this.#gate.changed();
  }

  /** Signed receipts this tab has earned as a contributor, over every visit (IndexedDB). */
  async receiptsEarned(): Promise<number> {
    return (await this.ledger()).store.count('earned');
  }

  /**
   * This tab's own books (its log and the receipts it earned), from IndexedDB: no network, no
   * GPU, so a page can show them before the volunteer switches anything on.
   */
  ledger(): Promise<LocalLedger> {
    return this.#stores.ledger();
  }

  /**
   * The researcher's finished and cancelled jobs (IndexedDB): no network, no GPU, so the jobs
   * view lists them and offers their downloads before the tab joins the mesh.
   */
  history(): Promise<JobHistory> {
    return this.#stores.history();
  }

  /**
   * The models this browser keeps by checkpoint digest (OPFS with an IndexedDB index; in memory
   * where the browser has neither): the mesh's models and the ones "Try it in this tab" loads
   * share it, and with it the user's size limit. No network, no GPU.
   */
  modelCache(): Promise<ModelCache> {
    return this.#stores.modelCache();
  }

  /** The market's service (audits, witnessing, prices), while the tab is in the mesh. */
  get market(): LedgerService | undefined {
    return this.#peer?.market;
  }

  /** When contributing was last switched on (ms since the epoch), 0 if never. */
  get contributingSince(): number {
    return this.#startedAt;
  }

  /**
   * Joins the mesh (once; later calls share it): as a contributor if the volunteer switched
   * Contribute on, else only as the owner of jobs this tab submits. Throws ConfigError without a
   * relay.
   */
  join(): Promise<MeshType> {
    if (this.#peer) return Promise.resolve(this.#peer.mesh);
    this.#joining ??= this.#join().then(
      (peer) => {
        this.#peer = peer;
        this.#joining = undefined;
        this.#meshState = 'joined';
        if (peer.market) this.safeDispatchEvent('ledger', { detail: peer.market });
        this.safeDispatchEvent('mesh', { detail: peer.mesh });
        this.#emitStatus();
        return peer;
      },
      (e) => {
        this.#joining = undefined;
        this.#meshState = 'error';
        this.#message = describeError(e);
        this.#emitStatus();
        throw e;
      },
    );
    this.#meshState = 'joining';
    this.#emitStatus();
    return this.#joining.then((peer) => peer.mesh);
  }

  /** Stops everything: contributing off, and the tab leaves the mesh. */
  async stop(): Promise<void> {
    await this.setContributing(false);
    await this.#leave();
  }

  /** Stops and releases the Worker; the session is unusable afterwards. */
  async dispose(): Promise<void> {
    this.#gate.dispose();
    await this.#leave();
    this.compute.terminate();
  }

  /** Starts this tab's peer (src/peer): not contributing until setContributing says so. */
  async #join(): Promise<Peer> {
    const config = await this.#options.config();
    if (!config) {
      throw new Error(
        'No relay configured: run `npm start`, or open this page with ?relay=<multiaddr>.',
      );
    }
    // libp2p is most of the page's weight: it loads only when the tab joins.
    const [{ startPeer }, privateKey, info, ownerStore, history, ledger, modelCache] =
      await Promise.all([
        import('../peer/peer'),
        this.#stores.identity(),
        this.compute.info().then((i) => this.#initialEngine(i)),
        this.#stores.ownerStore(),
        this.#stores.history(),
        this.#stores.ledger(),
        this.#stores.modelCache(),
      ]);
    const gflops = this.#prefs.speeds[info.identity];
    return startPeer({
      config,
      privateKey,
      engine: this.compute,
      adapter: info.identity,
      maxBufferBytes: info.maxBindingBytes,
      ledger,
      contribute: false, // setContributing turns it on once joined
      ownerStore,
      history,
      modelCache,
      budget: this.#prefs.budget,
      ...(gflops ? { gflops } : {}),
      gate: () => this.#gate.wait(),
    });
  }

  /**
   * Switches the Worker to the engine this device lends: the one remembered for it, else the
   * faster measured now (src/worker/engine-choice.ts), remembered with its speed. Computation:
   * after consent only. A remembered choice measures nothing, so a return visit starts at once.
   * Returns the engine lent and its speed, for the mesh.
   */
  async #measure(): Promise<{ info: ComputeInfo; gflops: number | undefined }> {
    const forced = this.#options.engine?.();
    const key = deviceKey(await this.compute.info());
    const remembered = forced ?? this.#prefs.engines[key];
    let info: ComputeInfo;
    let gflops: number | undefined;
    if (remembered) {
      info = await this.compute.setEngine(remembered);
      gflops = this.#prefs.speeds[info.identity];
      if (!gflops) {
        if (remembered === 'webgpu') await this.compute.tune();
        gflops = (await this.compute.benchmark([512], 1))[0]?.gflops;
        info = await this.compute.info();
      }
    } else {
      const choice = await chooseEngine(this.compute);
      info = choice.info;
      gflops = choice.gflops;
    }
    this.#prefs = {
      ...this.#prefs,
      engines: forced ? this.#prefs.engines : { ...this.#prefs.engines, [key]: info.engine },
      speeds: gflops ? { ...this.#prefs.speeds, [info.identity]: gflops } : this.#prefs.speeds,
    };
    savePrefs(this.#prefs, this.#options.storage);
    const next = adapterView(info, this.#prefs, this.#forcedEngine());
    this.#adapter = Promise.resolve(next);
    this.safeDispatchEvent('adapter', { detail: next });
    return { info, gflops };
  }

  async #stopContributing(): Promise<void> {
    this.#phase = 'off';
    this.#message = undefined;
    this.mesh?.setContributing(false);
    // A tab that is not also running its own jobs has no reason to stay connected.
    const own = this.mesh?.snapshot().jobs.some((j) => j.state === 'running');
    if (!own) await this.#leave();
    this.#emitStatus();
  }

  async #leave(): Promise<void> {
    const peer = this.#peer ?? (await this.#joining?.catch(() => undefined));
    if (!peer) return;
    this.#peer = undefined;
    this.#meshState = 'none';
    await peer.stop().catch((e) => notice(`leaving the mesh: ${describeError(e)}`));
    if (peer.market) this.safeDispatchEvent('ledger', { detail: undefined });
    this.safeDispatchEvent('mesh', { detail: undefined });
    this.#emitStatus();
  }

  /**
   * The engine a tab that joins computes on (its own checks as a researcher, and its shards until
   * measured): the page's choice, the one remembered for this device, else the likely winner
   * (a hardware GPU; otherwise the CPU engine, which a software adapter's GPU never beats).
   * Compiles, measures nothing.
   */
  async #initialEngine(info: ComputeInfo): Promise<ComputeInfo> {
    const engine =
      this.#forcedEngine() ??
      this.#prefs.engines[deviceKey(info)] ??
      (hardwareGpu(info) ? 'webgpu' : 'cpu');
    if (engine === info.engine) return info;
    return this.compute.setEngine(engine).catch(() => info);
  }

  /** The engine the page asks for; a bad value counts as none here (starting reports it). */
  #forcedEngine(): EngineKind | undefined {
    try {
      return this.#options.engine?.();
    } catch {
      return undefined;
    }
  }

  #emitStatus() {
    this.safeDispatchEvent('status', { detail: this.status() });
  }
}
