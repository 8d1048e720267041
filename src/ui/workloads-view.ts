import { html, LitElement, nothing } from 'lit';
import type { RowKind } from '../jobs/rows';
import type { PriceQuote } from '../ledger/price-book';
import type { LedgerService } from '../ledger/service';
import type { Mesh } from '../mesh/mesh';
import type { DatasetFile } from '../model/dataset';
import './dataset-picker';
import type { DatasetChoice } from './dataset-picker';
import { type FormMessage, fieldValue, formMessage, InputError } from './form-input';
import { type EstimateInputs, paymentFields, readPayment, readTerms } from './payment-fields';
import type { TabSession } from './session';
import { base } from './styles';
import { copyFiles, describeModelError } from './try-model';
import './workload-model';
import type { WorkloadModel } from './workload-model';
import {
  estimateRows,
  estimateText,
  kindsFor,
  MAX_NEW_TOKENS,
  MAX_PER_SHARD,
  MAX_TEMPERATURE,
  maxRowTokens,
  readParams,
  SAMPLE_ROWS,
  tokenizeDataset,
  type WorkloadParams,
} from './workload-plan';

/** The first rows of a data set (tokenized for the estimate) and how many rows it has. */
interface Sample {
  file: DatasetFile;
  field: string | undefined;
  texts: string[];
  /** Rows counted so far, and whether the whole file was read. */
  rows: number;
  complete: boolean;
}

const KIND_NAMES: Record<RowKind, string> = {
  embed: 'embeddings (.npy)',
  generate: 'generations (.jsonl)',
  score: 'log-likelihood scores (.jsonl)',
};

/**
 * `<tessel-workloads>`: a data-set job for the mesh. A model (`<tessel-workload-model>`), a
 * data set with its preview and text field (`<tessel-dataset-picker>`), what to compute
 * (`#wl-kind`: embed, generate, score) and how (`#wl-overlong`; for generate `#wl-max-new-tokens`,
 * `#wl-temperature`, `#wl-seed`, `#wl-chat`), rows per shard (`#wl-per-shard`) and the price and
 * budget. Before submitting, `#wl-estimate` shows rows, tokens, GFLOP and the time at the
 * contributors' known speed, and the payment fields the cost. Submitting reads the data set as
 * a stream and tokenizes it in the Worker, a chunk at a time (`#wl-progress`, `#wl-cancel`),
 * then hands the rows to Mesh.submitRows; the outcome or a typed refusal is `#wl-result`
 * (role=alert on a refusal). The job then shows in `<tessel-jobs>`.
 */
export class TesselWorkloads extends LitElement {
  static override properties = {
    session: { attribute: false },
    quote: { attribute: false },
    market: { attribute: false },
    balance: { attribute: false },
    shippedUrl: { attribute: false },
    _model: { state: true },
    _dataset: { state: true },
    _kind: { state: true },
    _sample: { state: true },
    _estimate: { state: true },
    _inputs: { state: true },
    _progress: { state: true },
    _message: { state: true },
  };
  static override styles = [base];
  declare session: TabSession | undefined;
  /** The mesh's price, this tab's market and balance (µcredits), from the researcher view. */
  declare quote: PriceQuote | undefined;
  declare market: LedgerService | undefined;
  declare balance: number | undefined;
  declare shippedUrl: string | undefined;
  declare _model: WorkloadModel | undefined;
  declare _dataset: DatasetChoice | undefined;
  declare _kind: RowKind;
  declare _sample: Sample | undefined;
  /** The estimate's words, or why there is none yet. */
  declare _estimate: { text: string; error: boolean } | undefined;
  declare _inputs: EstimateInputs | undefined;
  /** Rows read and tokenized while submitting, then 'sending' (no longer cancellable: the
   * job is being made); undefined when not submitting. */
  declare _progress: number | 'sending' | undefined;
  declare _message: FormMessage | undefined;
  /** The price the researcher typed; undefined while the field follows the mesh's. */
  #typed: string | undefined;
  #sampling: AbortController | undefined;
  #submitting: AbortController | undefined;
  /** The job's FLOPs as last estimated. */
  #flops: number | undefined;
  /** Bumped on every change: an estimate computed for older fields is dropped. */
  #version = 0;

  constructor() {
    super();
    this.session = undefined;
    this.shippedUrl = undefined;
    this._kind = 'embed';
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    this.#sampling?.abort();
    this.#submitting?.abort(new InputError('Stopped.'));
  }

  override willUpdate(changed: Map<string, unknown>) {
    // The price follows the mesh's: the cost is recomputed when it moves (before this render,
    // so the new cost is drawn with it).
    if (changed.has('quote') || changed.has('balance')) this.#readPayment();
  }

  override render() {
    const m = this._model;
    const kinds: RowKind[] = m ? kindsFor(m.info.task) : ['embed', 'generate', 'score'];
    const busy = this._progress !== undefined;
    return html`<h3 id="wl-title">Embed, generate or score a data set</h3>
      <form id="wl-form" aria-labelledby="wl-title" novalidate @submit=${this.#submit} @input=${this.#changed} @change=${this.#changed}>
        <tessel-workload-model
          .compute=${this.session?.compute}
          .openCache=${this.session ? () => this.session!.modelCache() : undefined}
          .shippedUrl=${this.shippedUrl}
          @workload-model=${(e: CustomEvent<WorkloadModel>) => this.#setModel(e.detail)}
        ></tessel-workload-model>
        <tessel-dataset-picker
          @dataset=${(e: CustomEvent<DatasetChoice | undefined>) => this.#setDataset(e.detail)}
        ></tessel-dataset-picker>
        <fieldset>
          <legend>What to compute</legend>
          <label
            >Output
            <select id="wl-kind" name="kind">
              ${kinds.map((k) => html`<option value=${k} ?selected=${k === this._kind}>${KIND_NAMES[k]}</option>`)}
            </select></label
          >
          <label
            >Rows longer than the model takes
            <select id="wl-overlong" name="overlong">
              <option value="truncate">cut to the model's length (counted, and said)</option>
              <option value="refuse">refuse the data set, naming the row</option>
            </select></label
          >
          ${this._kind === 'generate' ? this.#generateFields(m) : nothing}
          <label
            >Rows per shard (empty: sized to the contributors)
            <input id="wl-per-shard" name="per-shard" type="number" min="1" max=${MAX_PER_SHARD} placeholder="auto"
          /></label>
          <p id="wl-estimate" role=${this._estimate?.error ? 'alert' : 'status'} class=${this._estimate?.error ? 'error' : 'muted'}>
            ${this._estimate?.text ?? 'Choose a model and a data set to see the estimate.'}
          </p>
        </fieldset>
        ${paymentFields('rows', {
          quote: this.quote,
          market: this.market,
          balance: this.balance,
          inputs: this._inputs,
          typed: this.#typed,
          type: (value) => (this.#typed = value),
          useMeshPrice: () => {
            this.#typed = undefined;
            this.requestUpdate();
            void this.updateComplete.then(() => this.#readPayment());
          },
          join: this.session ? () => void this.session?.join().catch(() => {}) : undefined,
        })}
        <button type="submit" id="wl-submit" ?disabled=${busy}>Tokenize, shard and submit</button>
        ${
          busy
            ? html`<p id="wl-progress" role="status" data-rows=${this._progress}>
                ${
                  this._progress === 'sending'
                    ? 'Making the job and announcing it…'
                    : html`Read and tokenized ${this._progress!.toLocaleString('en')} rows…
                      <button type="button" id="wl-cancel" @click=${() => this.#submitting?.abort(new InputError('Stopped.'))}>
                        Cancel
                      </button>`
                }
              </p>`
            : nothing
        }
      </form>
      ${formMessage('wl-result', this._message)}`;
  }

  #generateFields(m: WorkloadModel | undefined) {
    const chat = m?.info.chatTemplate ?? false;
    return html`<label
        >Max new tokens
        <input id="wl-max-new-tokens" name="max-new-tokens" type="number" min="1" max=${MAX_NEW_TOKENS} value="32"
      /></label>
      <label
        >Temperature (0: greedy)
        <input id="wl-temperature" name="temperature" type="number" min="0" max=${MAX_TEMPERATURE} step="any" value="0"
      /></label>
      <label>Seed (empty: drawn) <input id="wl-seed" name="seed" type="number" min="0" max="4294967295" /></label>
      <label class="inline"
        ><input id="wl-chat" name="chat" type="checkbox" ?disabled=${!chat} .checked=${chat} />
        Each row as a user message through the model's chat template${chat ? '' : ' (this model has none)'}</label
      >`;
  }

  #form(): HTMLFormElement | null {
    return this.renderRoot.querySelector<HTMLFormElement>('#wl-form');
  }

  #field = (name: string): string => {
    const form = this.#form();
    if (!form) return '';
    const el = form.elements.namedItem(name) as HTMLInputElement | null;
    if (el?.type === 'checkbox') return el.checked && !el.disabled ? 'on' : '';
    return fieldValue(form, name);
  };

  #changed = (e: Event) => {
    const target = e.target as HTMLElement;
    if ((target as HTMLSelectElement).name === 'kind') {
      this._kind = (target as HTMLSelectElement).value as RowKind;
    }
    void this.updateComplete.then(() => this.#estimate());
  };

  #setModel(m: WorkloadModel) {
    this._model = m;
    this._message = undefined; // about the job before
    const kinds = kindsFor(m.info.task);
    if (!kinds.includes(this._kind)) this._kind = kinds[0]!;
    void this.updateComplete.then(() => this.#estimate());
  }

  #setDataset(d: DatasetChoice | undefined) {
    this._dataset = d;
    this._message = undefined;
    this.#sampling?.abort();
    this._sample = undefined;
    if (d) void this.#readSample(d);
    else void this.#estimate();
  }

  /** Reads the data set once through: its first SAMPLE_ROWS texts and its row count. */
  async #readSample(d: DatasetChoice) {
    const abort = new AbortController();
    this.#sampling = abort;
    const sample: Sample = { file: d.file, field: d.field, texts: [], rows: 0, complete: false };
    try {
      const { readRows } = await import('../model/dataset');
      for await (const r of readRows(d.file, {
        ...(d.field !== undefined ? { field: d.field } : {}),
        overLong: 'truncate',
        signal: abort.signal,
      })) {
        if (sample.texts.length < SAMPLE_ROWS) sample.texts.push(r.text);
        sample.rows++;
        // Shown as it counts; the sample's tokens are known once it holds SAMPLE_ROWS rows.
        if (sample.rows === SAMPLE_ROWS || sample.rows % 50_000 === 0) {
          this._sample = { ...sample };
          void this.#estimate();
        }
      }
      sample.complete = true;
      this._sample = sample;
      void this.#estimate();
    } catch (e) {
      if (abort.signal.aborted) return;
      this._sample = undefined;
      this._estimate = { text: describeModelError(e), error: true };
    }
  }

  /** Tokenizes the sample with the fields as they are now and shows the job's size. */
  async #estimate() {
    const version = ++this.#version;
    this.#readPayment();
    const m = this._model;
    const s = this._sample;
    const compute = this.session?.compute;
    if (!m || !this._dataset || !compute) {
      this._estimate = undefined;
      return;
    }
    if (!s || s.texts.length === 0) {
      this._estimate = { text: 'Reading the data set…', error: false };
      return;
    }
    try {
      const p = readParams(this.#field);
      const got = await compute.tokenize(m.info.digest, {
        texts: s.texts,
        maxTokens: maxRowTokens(p, m.info.maxPositions),
        overLong: 'truncate',
        chat: p.chat,
      });
      if (version !== this.#version) return;
      const lengths = got.rows.map((r) => r.length);
      const e = estimateRows(p.kind, m.summary, s.rows, lengths, p.maxNewTokens);
      const counting = s.complete ? '' : ` (counting rows: ${s.rows.toLocaleString('en')} so far)`;
      this._estimate = { text: `${estimateText(e, p, this.#gflops())}${counting}`, error: false };
      this.#readPayment(e.flops);
    } catch (e) {
      if (version === this.#version) this._estimate = { text: describeModelError(e), error: true };
    }
  }

  /** The contributors' speed this tab knows: what those that asked it for work reported
   * (not quarantined), else the market's count of contributing peers (GFLOP/s). */
  #gflops(): number | undefined {
    const peers = this.session?.mesh?.snapshot().peers ?? [];
    const asked = peers.reduce((s, p) => s + (!p.quarantined && p.gflops ? p.gflops : 0), 0);
    const q = this.quote;
    const market = q?.state === 'price' ? q.last.supplyGflops : this.market?.sample().supplyGflops;
    const total = asked > 0 ? asked : (market ?? 0);
    return total > 0 ? total : undefined;
  }

  /** The payment fields' estimate: the job's FLOPs at the price and budget typed. */
  #readPayment(flops = this.#flops) {
    this.#flops = flops;
    const form = this.#form();
    if (!form) return;
    this._inputs = {
      ...readPayment((name) => fieldValue(form, name)),
      ...(flops !== undefined && this._model && this._dataset
        ? { flops }
        : { note: 'The cost is shown once the model and the data set are chosen.' }),
    };
  }

  async #submit(ev: SubmitEvent) {
    ev.preventDefault();
    if (this.#submitting) return;
    const form = ev.target as HTMLFormElement;
    this._message = undefined;
    const abort = new AbortController();
    this.#submitting = abort;
    try {
      const m = this._model;
      const d = this._dataset;
      const compute = this.session?.compute;
      if (!this.session || !compute)
        throw new InputError('This page has no session to submit from.');
      if (!m) throw new InputError('Choose a model first.');
      if (!d) throw new InputError('Choose a data set (and the field holding its text) first.');
      const p = readParams(this.#field);
      if (!kindsFor(m.info.task).includes(p.kind)) {
        throw new InputError(`${m.name} cannot compute ${KIND_NAMES[p.kind]}.`);
      }
      const terms = readTerms(form);
      const maxTokens = maxRowTokens(p, m.info.maxPositions);
      this._progress = 0;
      const mesh = await this.session.join();
      const digest = m.info.digest;
      // The Worker may have restarted (a Stop elsewhere) since the model was loaded.
      if (!(await compute.hasModel(digest))) await compute.loadModel(copyFiles(m.files));
      const { readRows } = await import('../model/dataset');
      const rows = readRows(d.file, {
        ...(d.field !== undefined ? { field: d.field } : {}),
        overLong: p.overLong,
        signal: abort.signal,
      });
      const data = await tokenizeDataset(
        rows,
        (request) => compute.tokenize(digest, request),
        { maxTokens, overLong: p.overLong, chat: p.chat },
        { file: d.file.name, ...(d.field !== undefined ? { field: d.field } : {}) },
        { signal: abort.signal, onProgress: (n) => (this._progress = n) },
      );
      abort.signal.throwIfAborted();
      this._progress = 'sending';
      const run = await mesh.submitRows(p.kind, this.#request(mesh, m, p, data), terms);
      this._message = {
        text: submitted(run.jobId, run.job.shardCount, data, maxTokens),
        kind: 'ok',
      };
    } catch (e) {
      const stopped = abort.signal.aborted && this._progress !== 'sending';
      this._message = {
        text: stopped ? 'Stopped: nothing was submitted.' : describeModelError(e),
        kind: 'error',
      };
    } finally {
      this._progress = undefined;
      this.#submitting = undefined;
    }
  }

  /** What Mesh.submitRows takes: the model by digest once the mesh holds it, else its files. */
  #request(
    mesh: Mesh,
    m: WorkloadModel,
    p: WorkloadParams,
    data: { rows: Uint32Array[]; inputs: string[] },
  ): Parameters<Mesh['submitRows']>[1] {
    const model = mesh.models.summary(m.info.digest)
      ? { digest: m.info.digest }
      : { files: m.files, name: m.name };
    return {
      model,
      rows: data.rows,
      inputs: data.inputs,
      ...(p.perShard !== undefined ? { perShard: p.perShard } : {}),
      ...(p.kind === 'generate'
        ? {
            maxNewTokens: p.maxNewTokens,
            temperature: p.temperature,
            ...(p.seed !== undefined ? { seed: p.seed } : {}),
            stopTokens: m.info.eosTokenIds,
          }
        : {}),
    };
  }
}

/** The submitted line: the job, its shards, and the rows cut (never silently). */
function submitted(
  jobId: string,
  shards: number,
  data: { rows: Uint32Array[]; truncated: number[] },
  maxTokens: number,
): string {
  const cut = data.truncated;
  const rows = cut.slice(0, 5).join(', ') + (cut.length > 5 ? ', …' : '');
  return `Submitted job ${jobId}: ${data.rows.length.toLocaleString('en')} rows in ${shards} shard(s).${
    cut.length
      ? ` ${cut.length.toLocaleString('en')} row(s) were cut to ${maxTokens} tokens (rows ${rows}).`
      : ''
  } Waiting for contributors.`;
}

customElements.get('tessel-workloads') ??
  customElements.define('tessel-workloads', TesselWorkloads);
