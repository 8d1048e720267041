import { css, html, LitElement, nothing } from 'lit';
import {
  type CheckpointFiles,
  filesFromPicked,
  filesFromUrl,
  type PickedFile,
} from '../model/hf/files';
import { dropEntries, filesFromEntries } from './dropped-files';
import { describeError, formatBytes } from './format';
import { loadTryModelPrefs, saveTryModelPrefs } from './prefs';
import { SHIPPED_MODEL_NAME } from './shipped-model';
import { base } from './styles';
import { modelName, pickedFolder } from './try-model';

/** What `<tessel-model-picker>` hands its parent when a person asks to load a model. */
export interface ModelSource {
  /** The name the cache lists it under (a folder's name, a URL's host and path). */
  name: string;
  /** Opens the source; a URL source asks its server which files there are (no weights yet). */
  open(signal: AbortSignal): Promise<CheckpointFiles>;
}

/** The event the picker fires: `model-source`, detail a ModelSource. */
export type ModelSourceEvent = CustomEvent<ModelSource>;

/**
 * `<tessel-model-picker>`: where a model comes from. A folder (`#model-folder`, a directory
 * picker), loose files (`#model-files`), a folder or files dropped on `.drop-zone`, a URL prefix
 * (`#model-url`, e.g. a model repo's `…/resolve/main/`), or the shipped model. Picking reads
 * nothing: the person clicks `#load-picked`, `#load-url` or `#load-shipped`, and the picker
 * fires `model-source` for its parent to load. `busy` disables the buttons.
 */
export class TesselModelPicker extends LitElement {
  static override properties = {
    busy: { type: Boolean },
    shippedUrl: { attribute: false },
    _picked: { state: true },
    _error: { state: true },
    _over: { state: true },
  };
  static override styles = [
    base,
    css`
      :host section {
        border: 0;
        padding: 0;
        margin: 0;
      }
      .drop-zone {
        border: 2px dashed #8a99ab;
        border-radius: 8px;
        padding: 0.75rem;
        display: grid;
        gap: 0.5rem;
      }
      .drop-zone[data-over] {
        border-color: #1d5fd1;
        background: #eef4ff;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: end;
      }
      #url-form {
        margin-top: 0.75rem;
      }
      label.url {
        flex: 1 1 20rem;
      }
      label.url input {
        width: 100%;
      }
    `,
  ];
  declare busy: boolean;
  /** The shipped model's folder URL (src/ui/shipped-model.ts); no button without one. */
  declare shippedUrl: string | undefined;
  declare _picked: { files: PickedFile[]; folder: string; bytes: number } | undefined;
  declare _error: string | undefined;
  declare _over: boolean;
  /** The URL loaded last time, offered again. */
  readonly #lastUrl = loadTryModelPrefs().lastUrl ?? '';

  constructor() {
    super();
    this.busy = false;
    this.shippedUrl = undefined;
    this._over = false;
  }

  override render() {
    const p = this._picked;
    return html`
      <div
        class="drop-zone"
        ?data-over=${this._over}
        @dragover=${this.#dragOver}
        @dragleave=${() => {
          this._over = false;
        }}
        @drop=${this.#drop}
      >
        <span>
          Drop a model folder here (config.json, model.safetensors, tokenizer.json…), or pick it:
        </span>
        <div class="row">
          <label>A folder <input type="file" id="model-folder" webkitdirectory @change=${this.#pick} /></label>
          <label>Or its files <input type="file" id="model-files" multiple @change=${this.#pick} /></label>
        </div>
        ${
          p
            ? html`<div class="row">
              <span id="picked" data-files=${p.files.length}>
                ${p.files.length} files${p.folder ? html` from <code>${p.folder}</code>` : nothing},
                ${formatBytes(p.bytes)}
              </span>
              <button type="button" id="load-picked" ?disabled=${this.busy} @click=${this.#loadPicked}>
                Load these files
              </button>
            </div>`
            : nothing
        }
      </div>
      <form class="row" id="url-form" novalidate @submit=${this.#loadUrl}>
        <label class="url">
          Or a URL the files are under
          <input
            type="url"
            id="model-url"
            name="url"
            placeholder="https://huggingface.co/HuggingFaceTB/SmolLM2-135M/resolve/main/"
            .value=${this.#lastUrl}
          />
        </label>
        <button type="submit" id="load-url" ?disabled=${this.busy}>Load from URL</button>
        ${
          this.shippedUrl
            ? html`<button type="button" id="load-shipped" ?disabled=${this.busy} @click=${this.#loadShipped}>
              Load the shipped model
            </button>`
            : nothing
        }
      </form>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
    `;
  }

  #pick(ev: Event) {
    const input = ev.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    this.#setPicked(files);
    // The other input no longer describes what is picked.
    for (const other of this.renderRoot.querySelectorAll<HTMLInputElement>('input[type=file]')) {
      if (other !== input) other.value = '';
    }
  }

  #setPicked(files: (PickedFile & { size: number })[]) {
    this._error = undefined;
    if (files.length === 0) {
      this._picked = undefined;
      return;
    }
    this._picked = {
      files,
      folder: pickedFolder(files),
      bytes: files.reduce((s, f) => s + f.size, 0),
    };
  }

  #dragOver(ev: DragEvent) {
    ev.preventDefault(); // allow the drop
    if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'copy';
    this._over = true;
  }

  async #drop(ev: DragEvent) {
    ev.preventDefault();
    this._over = false;
    const items = ev.dataTransfer?.items;
    if (!items) return;
    try {
      // Entries must be taken before the handler yields: the list empties after the event.
      const entries = dropEntries(items);
      this.#setPicked(await filesFromEntries(entries));
    } catch (e) {
      this._error = `The dropped files could not be read: ${describeError(e)}`;
    }
  }

  #emit(source: ModelSource) {
    this.dispatchEvent(
      new CustomEvent<ModelSource>('model-source', {
        detail: source,
        bubbles: true,
        composed: true,
      }),
    );
  }

  #loadPicked() {
    const p = this._picked;
    if (!p) return;
    const files = p.files;
    this.#emit({
      name: modelName({ folder: p.folder }),
      open: async () => filesFromPicked(files),
    });
  }

  #loadUrl(ev: SubmitEvent) {
    ev.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#model-url')!;
    const raw = input.value.trim();
    let url: URL;
    try {
      url = new URL(raw);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      this._error = 'Type the http(s) URL the model’s files are under.';
      return;
    }
    this._error = undefined;
    saveTryModelPrefs({ ...loadTryModelPrefs(), lastUrl: url.href });
    this.#emitUrl(url.href);
  }

  #loadShipped() {
    if (this.shippedUrl) {
      this.#emitUrl(new URL(this.shippedUrl, document.baseURI).href, SHIPPED_MODEL_NAME);
    }
  }

  #emitUrl(href: string, name = modelName({ url: href })) {
    this.#emit({
      name,
      open: (signal) => filesFromUrl(href, { signal }),
    });
  }
}

customElements.get('tessel-model-picker') ??
  customElements.define('tessel-model-picker', TesselModelPicker);
