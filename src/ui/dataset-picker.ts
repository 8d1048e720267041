import { css, html, LitElement, nothing } from 'lit';
import type { DatasetFile, DatasetPreview } from '../model/dataset';
import { describeError, formatBytes } from './format';
import { base } from './styles';

/** Rows the preview table shows. */
export const PREVIEW_ROWS = 5; // rows
/** Characters of a cell the preview shows (the rest is elided). */
const PREVIEW_CHARS = 120;

/** What `<tessel-dataset-picker>` hands its parent: the file and the field holding the text
 * (undefined for .txt, whose rows are its lines). */
export interface DatasetChoice {
  file: DatasetFile;
  field: string | undefined;
}

/**
 * `<tessel-dataset-picker>`: a data set (.txt, .jsonl, .csv, .parquet) chosen with `#wl-dataset`,
 * its first rows shown (`#wl-preview`, read with previewDataset: only as much of the file as
 * they need) and the field holding the text chosen in `#wl-field`, the suggested one first.
 * Fires `dataset` (detail a DatasetChoice, or undefined when none is usable) on every change; a
 * file it cannot read is named in `#wl-dataset-error` (role=alert).
 */
export class TesselDatasetPicker extends LitElement {
  static override properties = {
    _preview: { state: true },
    _field: { state: true },
    _error: { state: true },
  };
  static override styles = [
    base,
    css`
      table#wl-preview {
        font-size: 0.85rem;
        width: 100%;
        table-layout: fixed;
      }
      table#wl-preview td {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      table#wl-preview th.chosen,
      table#wl-preview td.chosen {
        background: #eef4ff;
      }
    `,
  ];
  declare _preview: DatasetPreview | undefined;
  declare _field: string | undefined;
  declare _error: string | undefined;
  #file: DatasetFile | undefined;
  /** The file being previewed, so a slower earlier preview cannot replace a later one. */
  #reading: DatasetFile | undefined;

  /** The chosen data set, once its preview was read; undefined otherwise. */
  get choice(): DatasetChoice | undefined {
    const p = this._preview;
    if (!this.#file || !p) return undefined;
    if (p.format !== 'txt' && !this._field) return undefined;
    return { file: this.#file, field: p.format === 'txt' ? undefined : this._field };
  }

  override render() {
    const p = this._preview;
    return html`<fieldset>
      <legend>Data set: .txt (a row a line), .jsonl, .csv or .parquet</legend>
      <label
        >File
        <input
          type="file"
          id="wl-dataset"
          name="dataset"
          accept=".txt,.jsonl,.ndjson,.csv,.parquet"
          @change=${this.#chose}
      /></label>
      ${this._error ? html`<p id="wl-dataset-error" class="error" role="alert">${this._error}</p>` : nothing}
      ${p ? this.#renderPreview(p) : nothing}
    </fieldset>`;
  }

  #renderPreview(p: DatasetPreview) {
    const file = this.#file;
    const head = file
      ? html`<p class="muted" id="wl-dataset-info" data-format=${p.format}>
        ${file.name}, ${formatBytes(file.size)}, ${p.format}; its first ${Math.min(PREVIEW_ROWS, p.rows.length)} rows:
      </p>`
      : nothing;
    if (p.format === 'txt') {
      const lines = (p.rows as string[]).slice(0, PREVIEW_ROWS);
      return html`${head}<table id="wl-preview">
          <tbody>
            ${lines.map((l) => html`<tr><td class="chosen">${cut(l)}</td></tr>`)}
          </tbody>
        </table>`;
    }
    const rows = (p.rows as Record<string, unknown>[]).slice(0, PREVIEW_ROWS);
    return html`${head}
      <label
        >The field holding the text
        <select id="wl-field" name="field" @change=${this.#choseField}>
          ${p.fields.map((f) => html`<option value=${f} ?selected=${f === this._field}>${f}</option>`)}
        </select></label
      >
      ${
        p.suggestedField === undefined
          ? html`<p class="muted">No field holds text in every previewed row: choose one.</p>`
          : nothing
      }
      <table id="wl-preview">
        <thead>
          <tr>
            ${p.fields.map((f) => html`<th class=${f === this._field ? 'chosen' : ''} scope="col">${f}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) => html`<tr>
              ${p.fields.map((f) => html`<td class=${f === this._field ? 'chosen' : ''}>${cut(String(r[f] ?? ''))}</td>`)}
            </tr>`,
          )}
        </tbody>
      </table>`;
  }

  async #chose(ev: Event) {
    const file = (ev.target as HTMLInputElement).files?.[0];
    this.#file = file;
    this.#reading = file;
    this._preview = undefined;
    this._field = undefined;
    this._error = undefined;
    this.#emit();
    if (!file) return;
    try {
      const { previewDataset } = await import('../model/dataset');
      const preview = await previewDataset(file, { rows: PREVIEW_ROWS });
      if (this.#reading !== file) return;
      this._preview = preview;
      this._field = preview.suggestedField ?? preview.fields[0];
    } catch (e) {
      if (this.#reading === file) this._error = `This data set cannot be used: ${describeError(e)}`;
    }
    this.#emit();
  }

  #choseField(ev: Event) {
    this._field = (ev.target as HTMLSelectElement).value;
    this.#emit();
  }

  #emit() {
    this.dispatchEvent(
      new CustomEvent<DatasetChoice | undefined>('dataset', {
        detail: this.choice,
        bubbles: true,
        composed: true,
      }),
    );
  }
}

function cut(text: string): string {
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

customElements.get('tessel-dataset-picker') ??
  customElements.define('tessel-dataset-picker', TesselDatasetPicker);
