import { html, LitElement, nothing } from 'lit';
import type { ModelCache } from '../mesh/model-store';
import { parseConfig, parseJsonObject } from '../model/hf/config';
import { type ModelSummary, modelSummary } from '../model/hf/cost';
import type { CheckpointFileMap, ModelInfo } from '../worker/api';
import type { ComputeClient } from '../worker/client';
import { InputError } from './form-input';
import { formatBytes } from './format';
import './model-cache-view';
import type { ModelSource } from './model-picker';
import './model-picker';
import { base } from './styles';
import { copyFiles, describeModelError, formatParams, readCheckpoint } from './try-model';

/** A model ready for a data-set job: what the Worker reports of it, its cost shape, and its
 * files (the mesh takes them on the first job, then knows it by digest). */
export interface WorkloadModel {
  info: ModelInfo;
  summary: ModelSummary;
  files: CheckpointFileMap;
  name: string;
}

/**
 * `<tessel-workload-model>`: the model of a data-set job. `#wl-choose-model` opens the model
 * picker (a folder, files, a URL or the shipped model) and the model cache; the chosen
 * checkpoint is read (`#wl-model-progress`), loaded into the compute Worker (which checks it and
 * tokenizes with it) and shown in `#wl-model` (`data-digest`, `data-task`); a refusal is named
 * in `#wl-model-error` (role=alert). Fires `workload-model` (detail a WorkloadModel). The picker
 * is drawn only while choosing, so its ids stay unique on a page that has another.
 */
export class TesselWorkloadModel extends LitElement {
  static override properties = {
    compute: { attribute: false },
    openCache: { attribute: false },
    shippedUrl: { attribute: false },
    _model: { state: true },
    _choosing: { state: true },
    _progress: { state: true },
    _error: { state: true },
  };
  static override styles = [base];
  declare compute: ComputeClient | undefined;
  /** Opens the browser's model cache (the session's). */
  declare openCache: (() => Promise<ModelCache>) | undefined;
  declare shippedUrl: string | undefined;
  declare _model: WorkloadModel | undefined;
  declare _choosing: boolean;
  declare _progress: string | undefined;
  declare _error: string | undefined;
  #abort: AbortController | undefined;
  #opened: Promise<ModelCache> | undefined;

  constructor() {
    super();
    this.compute = undefined;
    this.openCache = undefined;
    this.shippedUrl = undefined;
    this._choosing = false;
  }

  /** The model chosen, once loaded. */
  get model(): WorkloadModel | undefined {
    return this._model;
  }

  override render() {
    const m = this._model;
    const busy = this._progress !== undefined;
    return html`<fieldset>
      <legend>Model</legend>
      ${
        m
          ? html`<p id="wl-model" data-digest=${m.info.digest} data-task=${m.info.task}>
              <strong>${m.name}</strong>: ${m.info.family} (${m.info.architecture}),
              ${formatParams(m.info.params)} parameters, ${formatBytes(m.info.weightBytes)},
              ${m.info.task === 'embed' ? `embeds (${m.info.hiddenSize} dims)` : 'generates and scores'},
              ${m.info.maxPositions} positions; <code>${m.info.digest.slice(0, 12)}</code>
            </p>`
          : html`<p class="muted">No model chosen yet.</p>`
      }
      ${
        this._choosing
          ? html`<tessel-model-picker
                ?busy=${busy}
                .shippedUrl=${this.shippedUrl}
                @model-source=${(e: CustomEvent<ModelSource>) => void this.#loadSource(e.detail)}
              ></tessel-model-picker>
              <tessel-model-cache
                .cache=${this.#cache()}
                ?busy=${busy}
                @load-cached=${(e: CustomEvent<{ digest: string; name: string }>) =>
                  void this.#loadCached(e.detail.digest, e.detail.name)}
              ></tessel-model-cache>
              <button type="button" id="wl-close-models" @click=${() => (this._choosing = false)}>
                Close
              </button>`
          : html`<button type="button" id="wl-choose-model" ?disabled=${busy} @click=${() => (this._choosing = true)}>
              ${m ? 'Choose another model' : 'Choose a model'}
            </button>`
      }
      ${
        busy
          ? html`<p id="wl-model-progress" role="status">
              ${this._progress}
              <button type="button" @click=${() => this.#abort?.abort(new InputError('Stopped.'))}>Stop</button>
            </p>`
          : nothing
      }
      ${this._error ? html`<p id="wl-model-error" class="error" role="alert">${this._error}</p>` : nothing}
    </fieldset>`;
  }

  async #loadSource(source: ModelSource) {
    await this.#load(source.name, async (signal) => {
      this._progress = `Looking for ${source.name}’s files…`;
      const found = await source.open(signal);
      const { files } = await readCheckpoint(
        found,
        (p) => {
          this._progress = `Read ${p.done} of ${p.total} files (${formatBytes(p.bytes)}): ${p.name}`;
        },
        signal,
      );
      return files;
    });
  }

  /** The cache, opened once (a failure is tried again on the next need). */
  #cache(): Promise<ModelCache> | undefined {
    if (!this.#opened && this.openCache) {
      this.#opened = this.openCache();
      this.#opened.catch(() => (this.#opened = undefined));
    }
    return this.#opened;
  }

  async #loadCached(digest: string, name: string) {
    await this.#load(name, async () => {
      this._progress = `Reading ${name} from the cache…`;
      const files = await (await this.#cache())?.get(digest);
      if (!files)
        throw new InputError('That model is no longer in the cache: choose its folder or URL.');
      return files;
    });
  }

  /** Reads a checkpoint with `read`, loads it into the Worker and shows it. */
  async #load(name: string, read: (signal: AbortSignal) => Promise<CheckpointFileMap>) {
    const compute = this.compute;
    if (!compute || this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    this._error = undefined;
    try {
      const files = await read(abort.signal);
      abort.signal.throwIfAborted();
      this._progress = 'Checking the checkpoint and loading it…';
      // The Worker takes the buffers it is sent: the files kept here are a copy.
      const info = await compute.loadModel(copyFiles(files));
      const summary = modelSummary(
        parseConfig(parseJsonObject('config.json', files['config.json']!)),
      );
      // The model shown before stays in the Worker: a job of this tab may be running on it.
      this._model = { info, summary, files, name };
      this._choosing = false;
      this.dispatchEvent(
        new CustomEvent<WorkloadModel>('workload-model', {
          detail: this._model,
          bubbles: true,
          composed: true,
        }),
      );
    } catch (e) {
      this._error = describeModelError(e);
    } finally {
      this._progress = undefined;
      this.#abort = undefined;
    }
  }
}

customElements.get('tessel-workload-model') ??
  customElements.define('tessel-workload-model', TesselWorkloadModel);
