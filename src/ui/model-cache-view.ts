import { css, html, LitElement, nothing } from 'lit';
import type { CachedModel, ModelCache } from '../mesh/model-store';
import { describeError } from './format';
import { loadTryModelPrefs, saveTryModelPrefs } from './prefs';
import { base } from './styles';
import { bytesToMb, CACHE_LIMIT_MB, formatMb, parseCacheLimitMb } from './try-model';

/** The event `<tessel-model-cache>` fires when a cached model's Load is pressed. */
export type LoadCachedEvent = CustomEvent<CachedModel>;

/**
 * `<tessel-model-cache>`: the models this browser keeps by digest (src/mesh/model-store.ts), most
 * recently used first: `#model-cache tr[data-digest]` with its name, size and last use, a
 * `.load-cached` button (fires `load-cached`, detail the CachedModel) and a `.delete-cached`
 * one; and the size the cache may grow to (`#cache-limit`, MB), remembered in prefs. Reads the
 * cache when shown and on `refresh()`; never downloads anything.
 */
export class TesselModelCache extends LitElement {
  static override properties = {
    cache: { attribute: false },
    busy: { type: Boolean },
    _models: { state: true },
    _note: { state: true },
    _limit: { state: true },
  };
  static override styles = [
    base,
    css`
      td.actions {
        white-space: nowrap;
      }
      td.actions button {
        margin-right: 0.25rem;
      }
    `,
  ];
  /** The cache, opened by whoever owns it; nothing is listed until it resolves. */
  declare cache: Promise<ModelCache> | undefined;
  declare busy: boolean;
  declare _models: CachedModel[] | undefined;
  declare _note: { text: string; error: boolean } | undefined;
  /** Bytes the cache may hold, once it is open. */
  declare _limit: number | undefined;

  constructor() {
    super();
    this.cache = undefined;
    this.busy = false;
  }

  override updated(changed: Map<string, unknown>) {
    if (changed.has('cache')) void this.refresh();
  }

  /** Reads the list again (after a load stored a model, or a delete). */
  async refresh(): Promise<void> {
    if (!this.cache) return;
    try {
      const cache = await this.cache;
      const models = await cache.list();
      this._limit = cache.limit();
      this._models = [...models].sort((a, b) => b.lastUsed - a.lastUsed);
    } catch (e) {
      this._note = { text: `The model cache cannot be read: ${describeError(e)}`, error: true };
    }
  }

  override render() {
    const models = this._models;
    const used = models?.reduce((s, m) => s + m.bytes, 0) ?? 0;
    return html`<h3 id="cache-title">Models kept in this browser</h3>
      <p class="muted">
        Each model loaded here is kept by its content digest, so it loads again without its folder
        or a download. Past the limit, the least recently used goes first.
      </p>
      ${
        models === undefined
          ? nothing
          : models.length === 0
            ? html`<p id="model-cache-empty" class="muted">None yet.</p>`
            : html`<div class="scroll"><table id="model-cache" aria-labelledby="cache-title">
              <thead>
                <tr>
                  <th scope="col">Model</th><th scope="col">Size</th><th scope="col">Last used</th>
                  <th scope="col"><span class="muted">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${models.map(
                  (m) => html`<tr data-digest=${m.digest}>
                    <td>${m.name} <code class="muted" title=${m.digest}>${m.digest.slice(0, 12)}</code></td>
                    <td>${formatMb(m.bytes)}</td>
                    <td>${new Date(m.lastUsed).toLocaleString()}</td>
                    <td class="actions">
                      <button type="button" class="load-cached" aria-label=${`Load ${m.name}`}
                        ?disabled=${this.busy} @click=${() => this.#load(m)}>Load</button>
                      <button type="button" class="delete-cached" aria-label=${`Delete ${m.name}`}
                        ?disabled=${this.busy} @click=${() => this.#delete(m)}>Delete</button>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table></div>`
      }
      <form id="cache-limit-form" novalidate @submit=${this.#setLimit}>
        <label>
          Keep up to (MB)
          <input id="cache-limit" name="limit" type="number" min=${CACHE_LIMIT_MB.min}
            max=${CACHE_LIMIT_MB.max} step="any" .value=${this.#limitMb()} />
        </label>
        <button type="submit" id="cache-limit-button">Set limit</button>
        <span id="cache-usage" class="muted">${formatMb(used)} in use</span>
      </form>
      ${
        this._note
          ? html`<p id="cache-note" class=${this._note.error ? 'error' : 'ok'}
              role=${this._note.error ? 'alert' : 'status'}>${this._note.text}</p>`
          : nothing
      }`;
  }

  /** The limit as the field shows it: the cache's, once open; else the remembered one. */
  #limitMb(): string {
    const bytes = this._limit ?? loadTryModelPrefs().cacheLimitBytes;
    return bytes === undefined ? '' : String(bytesToMb(bytes));
  }

  #load(m: CachedModel) {
    this.dispatchEvent(
      new CustomEvent<CachedModel>('load-cached', { detail: m, bubbles: true, composed: true }),
    );
  }

  async #delete(m: CachedModel) {
    try {
      await (await this.cache!).delete(m.digest);
      this._note = { text: `Deleted ${m.name}.`, error: false };
    } catch (e) {
      this._note = { text: `${m.name} could not be deleted: ${describeError(e)}`, error: true };
    }
    await this.refresh();
  }

  async #setLimit(ev: SubmitEvent) {
    ev.preventDefault();
    const input = (ev.target as HTMLFormElement).elements.namedItem('limit') as HTMLInputElement;
    try {
      const bytes = parseCacheLimitMb(input.value);
      await (await this.cache!).setLimit(bytes);
      saveTryModelPrefs({ ...loadTryModelPrefs(), cacheLimitBytes: bytes });
      this._note = { text: `The cache keeps up to ${formatMb(bytes)}.`, error: false };
    } catch (e) {
      this._note = { text: describeError(e), error: true };
    }
    await this.refresh();
  }
}

customElements.get('tessel-model-cache') ??
  customElements.define('tessel-model-cache', TesselModelCache);
