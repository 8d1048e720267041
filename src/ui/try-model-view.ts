import { css, html, LitElement, nothing } from 'lit';
import type { ModelCache } from '../mesh/model-store';
import type { CheckpointFileMap, EngineKind, GenerateRequest, ModelInfo } from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { fieldValue, InputError } from './form-input';
import { describeError, formatBytes } from './format';
import { useLentEngine } from './lent-engine';
import type { TesselModelCache } from './model-cache-view';
import './model-cache-view';
import type { ModelSource } from './model-picker';
import './model-picker';
import { loadTryModelPrefs } from './prefs';
import type { TabSession } from './session';
import { base } from './styles';
import {
  copyFiles,
  cosineMatrix,
  describeModelError,
  embedLines,
  readCheckpoint,
} from './try-model';
import {
  type Busy,
  type Embedded,
  embedPanel,
  type Generated,
  generatePanel,
  generateRequest,
  type Loaded,
  modelInfoList,
  type PanelActions,
} from './try-model-panels';

type Note = { text: string; error: boolean };

/**
 * `<tessel-try-model>`: a Hugging Face checkpoint run in this tab, on the person's own click.
 * They pick a folder, drop one, type a URL or take the shipped model (`<tessel-model-picker>`);
 * Load reads the files (`#load-progress`), the compute Worker checks and loads them and
 * `#model-info` shows what it is (family, architecture, parameters, weight size, digest), or
 * `#load-note` (role=alert) names the file and field at fault. A decoder then generates (`#generate-form`:
 * through its chat template unless `#plain-text`; `#generated[data-finish]`, `#generate-stats`),
 * an encoder embeds lines (`#embed-form`; `#similarity`, a cosine matrix with the numbers in
 * its cells). `#stop-button` stops a run by restarting the Worker. Each loaded model is kept by
 * digest in the model cache (`<tessel-model-cache>`), from which it loads again, also after a
 * Stop. Nothing is read, downloaded or computed before a click.
 */
export class TesselTryModel extends LitElement {
  static override properties = {
    compute: { attribute: false },
    session: { attribute: false },
    shippedUrl: { attribute: false },
    openCache: { attribute: false },
    _busy: { state: true },
    _progress: { state: true },
    _loaded: { state: true },
    _loadNote: { state: true },
    _generated: { state: true },
    _embedded: { state: true },
    _runNote: { state: true },
  };
  static override styles = [
    base,
    css`
      pre#generated {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        background: #f6f8fb;
        border-radius: 6px;
        padding: 0.5rem 0.75rem;
        min-height: 2.5rem;
      }
      textarea {
        font: inherit;
      }
      table#similarity {
        width: auto;
      }
      table#similarity td {
        text-align: center;
        min-width: 3.5rem;
      }
      table#similarity th[scope='row'] {
        max-width: 16rem;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      progress {
        width: min(20rem, 100%);
      }
    `,
  ];
  declare compute: ComputeClient | undefined;
  /** The tab's session: which engine it lends (the runs here use that one). */
  declare session: TabSession | undefined;
  /** The shipped model's folder URL; passed on to the picker. */
  declare shippedUrl: string | undefined;
  /** Opens the browser's model cache (once, on first need). */
  declare openCache: (() => Promise<ModelCache>) | undefined;
  declare _busy: Busy;
  declare _progress: { text: string; value?: number; max?: number } | undefined;
  declare _loaded: Loaded | undefined;
  declare _loadNote: Note | undefined;
  declare _generated: Generated | undefined;
  declare _embedded: Embedded | undefined;
  declare _runNote: Note | undefined;
  #cache: Promise<ModelCache> | undefined;
  #abort: AbortController | undefined;
  readonly #actions: PanelActions = {
    generate: (ev) => void this.#generate(ev),
    embed: (ev) => void this.#embed(ev),
    stop: () => this.#stop(),
  };

  constructor() {
    super();
    this.compute = undefined;
    this.session = undefined;
    this.shippedUrl = undefined;
    this.openCache = undefined;
    this._busy = '';
  }

  /** The model cache, opened once with the limit the person set. */
  #openCache(): Promise<ModelCache> | undefined {
    if (!this.#cache && this.openCache) {
      const open = this.openCache;
      this.#cache = open().then(async (cache) => {
        const limit = loadTryModelPrefs().cacheLimitBytes;
        if (limit !== undefined && limit !== cache.limit()) await cache.setLimit(limit);
        return cache;
      });
      this.#cache.catch(() => {
        this.#cache = undefined; // tried again on the next need
      });
    }
    return this.#cache;
  }

  override render() {
    const l = this._loaded;
    return html`
      <h3 id="try-model-title">Try a model</h3>
      <p class="muted">
        A Hugging Face checkpoint as it is published: Llama, Qwen2/3, Mistral and GPT-2 decoders
        generate, BERT encoders embed. It runs in this tab only, on the engine it would lend.
      </p>
      <tessel-model-picker
        ?busy=${this._busy !== ''}
        .shippedUrl=${this.shippedUrl}
        @model-source=${(e: CustomEvent<ModelSource>) => this.#loadSource(e.detail)}
      ></tessel-model-picker>
      ${this.#renderProgress()}
      ${
        this._loadNote
          ? html`<p id="load-note" class=${this._loadNote.error ? 'error' : 'ok'}
              role=${this._loadNote.error ? 'alert' : 'status'}>${this._loadNote.text}</p>`
          : nothing
      }
      ${l ? modelInfoList(l) : nothing}
      ${l?.info.task === 'generate' ? generatePanel(l.info, this._generated, this._busy, this.#actions) : nothing}
      ${l?.info.task === 'embed' ? embedPanel(this._embedded, this._busy, this.#actions) : nothing}
      ${
        this._runNote
          ? html`<p id="run-note" class=${this._runNote.error ? 'error' : 'ok'}
              role=${this._runNote.error ? 'alert' : 'status'}>${this._runNote.text}</p>`
          : nothing
      }
      <tessel-model-cache
        .cache=${this.#openCache()}
        ?busy=${this._busy !== ''}
        @load-cached=${(e: CustomEvent<{ digest: string; name: string }>) =>
          this.#loadCached(e.detail.digest, e.detail.name)}
      ></tessel-model-cache>
    `;
  }

  #renderProgress() {
    const p = this._progress;
    if (!p) return nothing;
    return html`<p id="load-progress" role="status" data-busy=${this._busy}>
      ${p.max ? html`<progress aria-label="Files read" value=${p.value ?? 0} max=${p.max}></progress>` : nothing} ${p.text}
      ${
        this._busy === 'load'
          ? html`<button type="button" id="stop-load" @click=${this.#stop}>Stop</button>`
          : nothing
      }
    </p>`;
  }

  #stop() {
    this.#abort?.abort(new InputError('Stopped.'));
  }

  /** Runs `fn` as the one job in progress, stoppable by Stop (which restarts the Worker). */
  async #run<T>(busy: Busy, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    this.#abort = abort;
    this._busy = busy;
    try {
      return await fn(abort.signal);
    } finally {
      this._busy = '';
      this.#abort = undefined;
      this._progress = undefined;
    }
  }

  /** Sends a checkpoint to the Worker on the engine this tab lends; its ModelInfo. */
  async #intoWorker(
    files: CheckpointFileMap,
    signal: AbortSignal,
  ): Promise<{ info: ModelInfo; engine: EngineKind }> {
    const compute = this.compute!;
    const engine = await useLentEngine(this.session, compute);
    const info = await compute.cancellable(signal, () => compute.loadModel(files));
    return { info, engine };
  }

  async #loadSource(source: ModelSource) {
    if (!this.compute || this._busy) return;
    this._loadNote = undefined;
    try {
      await this.#run('load', async (signal) => {
        this._progress = { text: `Looking for ${source.name}’s files…` };
        const found = await source.open(signal);
        const { files, bytes } = await readCheckpoint(
          found,
          (p) => {
            this._progress = {
              text: `Read ${p.done} of ${p.total} files (${formatBytes(p.bytes)}): ${p.name}`,
              value: p.done,
              max: p.total,
            };
          },
          signal,
        );
        this._progress = { text: `Checking ${formatBytes(bytes)} of checkpoint and loading it…` };
        // The Worker takes the buffers it is sent; the cache stores these.
        const { info, engine } = await this.#intoWorker(copyFiles(files), signal);
        this.#shown({ info, name: source.name, engine, fromCache: false });
        await this.#keep(info, files, bytes, source.name);
      });
    } catch (e) {
      this._loadNote = { text: describeModelError(e), error: true };
    }
  }

  /** Stores a loaded model by digest; says so when it could not be kept. */
  async #keep(info: ModelInfo, files: CheckpointFileMap, bytes: number, name: string) {
    const cache = await this.#openCache()?.catch(() => undefined);
    if (!cache) return;
    try {
      await cache.put(info.digest, files, name);
      const kept = (await cache.list()).some((m) => m.digest === info.digest);
      this._loadNote = kept
        ? { text: `Loaded, and kept in this browser.`, error: false }
        : {
            text: `Loaded; not kept: its ${formatBytes(bytes)} exceed the cache limit.`,
            error: false,
          };
    } catch (e) {
      this._loadNote = { text: `Loaded; not kept: ${describeError(e)}`, error: false };
    }
    await this.#cacheView()?.refresh();
  }

  async #loadCached(digest: string, name: string) {
    if (!this.compute || this._busy) return;
    this._loadNote = undefined;
    try {
      await this.#run('load', async (signal) => {
        this._progress = { text: `Loading ${name} from the cache…` };
        const { info, engine } = await this.#fromCache(digest, signal);
        this.#shown({ info, name, engine, fromCache: true });
      });
    } catch (e) {
      this._loadNote = { text: describeModelError(e), error: true };
    }
    await this.#cacheView()?.refresh();
  }

  /** Loads a cached model into the Worker, checking it is what its digest says. */
  async #fromCache(digest: string, signal: AbortSignal) {
    const cache = await this.#openCache();
    const files = await cache?.get(digest);
    if (!cache || !files) {
      throw new InputError('That model is no longer in the cache: load it from its folder or URL.');
    }
    const loaded = await this.#intoWorker(files, signal);
    if (loaded.info.digest !== digest) {
      // A damaged or altered copy: never run it under the name it was stored as.
      await this.compute!.unloadModel(loaded.info.digest).catch(() => {});
      await cache.delete(digest);
      throw new InputError(
        `The cached copy of ${digest.slice(0, 12)} has digest ${loaded.info.digest.slice(0, 12)}: deleted. Load the model from its source.`,
      );
    }
    return loaded;
  }

  /** Shows a newly loaded model; the one shown before leaves the Worker (one model at a
   * time here: a second would double the memory the tab holds). */
  #shown(loaded: Loaded) {
    const before = this._loaded?.info.digest;
    if (before && before !== loaded.info.digest)
      void this.compute?.unloadModel(before).catch(() => {});
    this._loaded = loaded;
    this._generated = undefined;
    this._embedded = undefined;
    this._runNote = undefined;
  }

  /** The loaded model's digest, loaded again from the cache if the Worker restarted since. */
  async #ready(signal: AbortSignal): Promise<string> {
    const { digest } = this._loaded!.info;
    if (await this.compute!.hasModel(digest)) return digest;
    this._runNote = {
      text: 'The compute Worker restarted: loading the model from the cache…',
      error: false,
    };
    await this.#fromCache(digest, signal);
    this._runNote = undefined;
    return digest;
  }

  async #generate(ev: SubmitEvent) {
    ev.preventDefault();
    if (!this.compute || !this._loaded || this._busy) return;
    const form = ev.target as HTMLFormElement;
    let request: GenerateRequest;
    try {
      request = generateRequest(form, this._loaded.info);
    } catch (e) {
      this._runNote = { text: describeModelError(e), error: true };
      return;
    }
    this._runNote = undefined;
    const compute = this.compute;
    try {
      await this.#run('generate', async (signal) => {
        const digest = await this.#ready(signal);
        const t0 = performance.now();
        const [gen] = await compute.cancellable(signal, () => compute.generate(digest, request));
        if (!gen) throw new InputError('The Worker returned no generation.');
        this._generated = { gen, ms: performance.now() - t0 };
      });
    } catch (e) {
      this._runNote = { text: stoppedOr(e), error: true };
    }
  }

  async #embed(ev: SubmitEvent) {
    ev.preventDefault();
    if (!this.compute || !this._loaded || this._busy) return;
    let lines: string[];
    try {
      lines = embedLines(fieldValue(ev.target as HTMLFormElement, 'lines'));
    } catch (e) {
      this._runNote = { text: describeModelError(e), error: true };
      return;
    }
    this._runNote = undefined;
    const compute = this.compute;
    try {
      await this.#run('embed', async (signal) => {
        const digest = await this.#ready(signal);
        const t0 = performance.now();
        const vectors = await compute.cancellable(signal, () =>
          compute.embed(digest, { texts: lines }),
        );
        const ms = performance.now() - t0;
        if (vectors.length !== lines.length) {
          throw new InputError(`${lines.length} lines gave ${vectors.length} vectors.`);
        }
        this._embedded = { lines, dim: vectors[0]?.length ?? 0, matrix: cosineMatrix(vectors), ms };
      });
    } catch (e) {
      this._runNote = { text: stoppedOr(e), error: true };
    }
  }

  #cacheView(): TesselModelCache | null {
    return this.renderRoot.querySelector('tessel-model-cache');
  }
}

function stoppedOr(e: unknown): string {
  if (e instanceof InputError && e.message === 'Stopped.') {
    return 'Stopped. The compute Worker restarted; the model loads again from the cache on the next run.';
  }
  return describeModelError(e);
}

customElements.get('tessel-try-model') ?? customElements.define('tessel-try-model', TesselTryModel);
