import { css, html, LitElement, nothing } from 'lit';
import type { ModelCache } from '../mesh/model-store';
import type {
  CheckpointFileMap,
  EngineKind,
  GenerateRequest,
  Generation,
  ModelInfo,
} from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { fieldValue, InputError, requiredInt } from './form-input';
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
  formatParams,
  formatSimilarity,
  readCheckpoint,
  similarityColour,
} from './try-model';

/** The most new tokens one Generate asks for. */
export const MAX_NEW_TOKENS_LIMIT = 1024;
/** What the max-new-tokens field starts at. */
const DEFAULT_NEW_TOKENS = 64;

type Busy = '' | 'load' | 'generate' | 'embed';
type Note = { text: string; error: boolean };
interface Loaded {
  info: ModelInfo;
  name: string;
  engine: EngineKind;
  fromCache: boolean;
}
interface Generated {
  gen: Generation;
  ms: number;
}
interface Embedded {
  lines: string[];
  dim: number;
  matrix: number[][];
  ms: number;
}

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
      ${l ? this.#renderInfo(l) : nothing}
      ${l?.info.task === 'generate' ? this.#renderGenerate(l.info) : nothing}
      ${l?.info.task === 'embed' ? this.#renderEmbed() : nothing}
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

  #renderInfo({ info, name, engine, fromCache }: Loaded) {
    return html`<dl id="model-info" data-digest=${info.digest} data-task=${info.task}>
      <dt>Model</dt><dd>${name}${fromCache ? html` <span class="muted">(from the cache)</span>` : nothing}</dd>
      <dt>Family</dt><dd id="model-family">${info.family}</dd>
      <dt>Architecture</dt><dd>${info.architecture}</dd>
      <dt>Parameters</dt><dd id="model-params">${formatParams(info.params)}</dd>
      <dt>Weights</dt><dd>${formatBytes(info.weightBytes)}</dd>
      <dt>Vocabulary</dt><dd>${info.vocab} tokens, up to ${info.maxPositions} per sequence</dd>
      <dt>Runs on</dt><dd>${engine === 'cpu' ? 'the CPU engine (WebAssembly)' : 'the GPU (WebGPU)'}</dd>
      <dt>Digest</dt><dd><code title=${info.digest}>${info.digest.slice(0, 16)}…</code></dd>
    </dl>`;
  }

  #renderGenerate(info: ModelInfo) {
    const g = this._generated;
    const running = this._busy === 'generate';
    return html`<h4 id="generate-title">Generate</h4>
      <form id="generate-form" aria-labelledby="generate-title" novalidate @submit=${this.#generate}>
        <label style="flex-basis: 100%">
          ${info.chatTemplate ? 'Your message' : 'Prompt'}
          <textarea id="prompt" name="prompt" rows="3"
            .value=${info.chatTemplate ? 'Hello! Who are you?' : 'Once upon a time'}></textarea>
        </label>
        ${
          info.chatTemplate
            ? html`<label class="inline">
              <input type="checkbox" id="plain-text" name="plain" /> Send as plain text (no chat template)
            </label>`
            : nothing
        }
        <label>Max new tokens
          <input id="max-new-tokens" name="max" type="number" min="1" max=${MAX_NEW_TOKENS_LIMIT} value=${DEFAULT_NEW_TOKENS} /></label>
        <label>Temperature
          <input id="temperature" name="temperature" type="number" min="0" max="2" step="0.05" value="0.7" /></label>
        <label>Top-p <input id="top-p" name="topP" type="number" min="0.01" max="1" step="0.01" value="0.95" /></label>
        <label>Seed <input id="seed" name="seed" type="number" min="0" max="4294967295" placeholder="random" /></label>
        <button type="submit" id="generate-button" ?disabled=${this._busy !== ''}>Generate</button>
        ${running ? html`<button type="button" id="stop-button" @click=${this.#stop}>Stop</button>` : nothing}
      </form>
      ${
        g
          ? html`<pre id="generated" data-finish=${g.gen.finishReason} aria-live="polite">${g.gen.text}</pre>
            <p id="generate-stats" class="muted">
              ${g.gen.tokens.length} tokens after a prompt of ${g.gen.promptTokens} in
              ${(g.ms / 1000).toFixed(2)} s: ${((g.gen.tokens.length / g.ms) * 1000).toFixed(1)} tokens/s
              (prefill included). Finished: <span id="finish-reason">${finishText(g.gen, info)}</span>.
            </p>`
          : nothing
      }`;
  }

  #renderEmbed() {
    const e = this._embedded;
    return html`<h4 id="embed-title">Embed</h4>
      <form id="embed-form" aria-labelledby="embed-title" novalidate @submit=${this.#embed}>
        <label style="flex-basis: 100%">
          One text a line
          <textarea id="embed-lines" name="lines" rows="4">
The cat sat on the mat.
A cat was sitting on a rug.
Stock markets fell sharply today.</textarea
          >
        </label>
        <button type="submit" id="embed-button" ?disabled=${this._busy !== ''}>Embed</button>
        ${this._busy === 'embed' ? html`<button type="button" id="stop-button" @click=${this.#stop}>Stop</button>` : nothing}
      </form>
      ${e ? this.#renderSimilarity(e) : nothing}`;
  }

  #renderSimilarity(e: Embedded) {
    return html`<p id="embed-result" data-dim=${e.dim} class="muted">
        ${e.lines.length} vectors of ${e.dim} numbers in ${(e.ms / 1000).toFixed(2)} s.
      </p>
      <div class="scroll">
        <table id="similarity">
          <caption class="muted">Cosine similarity of each pair of lines (1.00: same direction)</caption>
          <thead>
            <tr><td></td>${e.lines.map((_, j) => html`<th scope="col">${j + 1}</th>`)}</tr>
          </thead>
          <tbody>
            ${e.matrix.map(
              (row, i) => html`<tr>
                <th scope="row" title=${e.lines[i]!}>${i + 1}. ${e.lines[i]}</th>
                ${row.map(
                  (c) =>
                    html`<td style=${`background: ${similarityColour(c)}`}>${formatSimilarity(c)}</td>`,
                )}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
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
        await this.#keep(info, files, source.name);
      });
    } catch (e) {
      this._loadNote = { text: describeModelError(e), error: true };
    }
  }

  /** Stores a loaded model by digest; says so when it could not be kept. */
  async #keep(info: ModelInfo, files: CheckpointFileMap, name: string) {
    const cache = await this.#openCache()?.catch(() => undefined);
    if (!cache) return;
    try {
      await cache.put(info.digest, files, name);
      const kept = (await cache.list()).some((m) => m.digest === info.digest);
      this._loadNote = kept
        ? { text: `Loaded, and kept in this browser.`, error: false }
        : {
            text: `Loaded; not kept: its ${formatBytes(info.weightBytes)} exceed the cache limit.`,
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
      await cache.delete(digest);
      throw new InputError(
        `The cached copy of ${digest.slice(0, 12)} has digest ${loaded.info.digest.slice(0, 12)}: deleted. Load the model from its source.`,
      );
    }
    return loaded;
  }

  #shown(loaded: Loaded) {
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

/** The Generate form as a request; an InputError for a field out of range. */
function generateRequest(form: HTMLFormElement, info: ModelInfo): GenerateRequest {
  const prompt = (form.elements.namedItem('prompt') as HTMLTextAreaElement).value;
  if (prompt.trim() === '') throw new InputError('Type a prompt first.');
  const plain =
    !info.chatTemplate || (form.elements.namedItem('plain') as HTMLInputElement).checked;
  const maxNewTokens = requiredInt(form, 'max', 1, MAX_NEW_TOKENS_LIMIT, 'Max new tokens');
  const temperature = Number(fieldValue(form, 'temperature'));
  if (fieldValue(form, 'temperature') === '' || !(temperature >= 0 && temperature <= 2)) {
    throw new InputError('Temperature must be a number from 0 to 2.');
  }
  const topP = Number(fieldValue(form, 'topP'));
  if (fieldValue(form, 'topP') === '' || !(topP > 0 && topP <= 1)) {
    throw new InputError('Top-p must be a number above 0, at most 1.');
  }
  const seed =
    fieldValue(form, 'seed') === ''
      ? crypto.getRandomValues(new Uint32Array(1))[0]!
      : requiredInt(form, 'seed', 0, 2 ** 32 - 1, 'Seed');
  return {
    ...(plain ? { prompts: [prompt] } : { chats: [[{ role: 'user', content: prompt }]] }),
    maxNewTokens,
    temperature,
    topP,
    seed,
  };
}

/** Why a generation ended, as people read it. */
function finishText(gen: Generation, info: ModelInfo): string {
  if (gen.finishReason === 'stop') return 'stop (an end token or stop string)';
  return gen.promptTokens + gen.tokens.length >= info.maxPositions
    ? `length (the model takes ${info.maxPositions} tokens)`
    : 'length (max new tokens)';
}

function stoppedOr(e: unknown): string {
  if (e instanceof InputError && e.message === 'Stopped.') {
    return 'Stopped. The compute Worker restarted; the model loads again from the cache on the next run.';
  }
  return describeModelError(e);
}

customElements.get('tessel-try-model') ?? customElements.define('tessel-try-model', TesselTryModel);
