import { html, LitElement, nothing } from 'lit';
import { defaultPolicy } from '../jobs/inference-spec';
import { MAX_DIM } from '../jobs/limits';
import { randomProblem } from '../jobs/matmul-job';
import { DEFAULT_PARAMS } from '../ledger/params';
import type { PriceQuote } from '../ledger/price-book';
import type { LedgerService } from '../ledger/service';
import type { InferenceRequest } from '../mesh/mesh';
import type { Matrix } from '../model/matrix-file';
import { cryptoRng } from '../model/rng';
import {
  type FormMessage,
  fieldValue,
  formMessage,
  InputError,
  optionalInt,
  requiredInt,
} from './form-input';
import { describeError } from './format';
import {
  type EstimateInputs,
  type Form,
  paymentFields,
  readPayment,
  readTerms,
} from './payment-fields';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { SHIPPED_MODEL_URL, type ShippedModel } from './shipped-model';
import { base } from './styles';
import {
  inferenceWork,
  matmulWork,
  readInference,
  readPrompts,
  readUpload,
  uploadedProblem,
} from './work-fields';
import './workloads-view';

// The forms' parts live beside this element: the payment fields (the mesh's price, live, and
// what the job would cost and take) in payment-fields.ts, the work fields' reading, checking
// and FLOPs in work-fields.ts, and the typed refusals in form-input.ts.

/**
 * `<tessel-researcher>`: submit work to the mesh. A matmul C = A·B from uploaded .npy or
 * safetensors files (or random matrices of given sizes), or batched inference on the shipped
 * model from prompts, one a line, with its verification settings. Files are read and checked
 * in full before anything is submitted; a refusal says which file and why. Jobs then appear in
 * `<tessel-jobs>`.
 */
export class TesselResearcher extends LitElement {
  static override properties = {
    session: { attribute: false },
    shipped: { attribute: false },
    _source: { state: true },
    _mode: { state: true },
    _matmulMessage: { state: true },
    _inferMessage: { state: true },
    _busy: { state: true },
    _quote: { state: true },
    _balance: { state: true },
    _inputs: { state: true },
  };
  static override styles = [base];
  declare session: TabSession | undefined;
  declare shipped: (() => Promise<ShippedModel>) | undefined;
  declare _source: 'upload' | 'random';
  declare _mode: 'tokens' | 'logits';
  declare _matmulMessage: FormMessage | undefined;
  declare _inferMessage: FormMessage | undefined;
  declare _busy: boolean;
  /** The mesh's price as this tab's market computes it; undefined off the mesh. */
  declare _quote: PriceQuote | undefined;
  /** This tab's balance (µcredits), once its ledger is open. */
  declare _balance: number | undefined;
  /** Each form's work and payment fields, as last read (for the estimate). */
  declare _inputs: Partial<Record<Form, EstimateInputs>>;
  /** The shipped model's digest once this tab holds it, so it is not hashed again. */
  #digest: string | undefined;
  #market: LedgerService | undefined;
  #forMarket: AbortController | undefined;
  /** A price the researcher typed, per form: the mesh's price no longer replaces it. */
  readonly #typed: Partial<Record<Form, string>> = {};
  /** The uploads being read (each once, when chosen), by field, and those read. */
  readonly #uploads = new Map<string, { file: File; matrix: Promise<Matrix> }>();
  readonly #shapes = new Map<string, Matrix>();
  /** The shipped model, once the inference form was used (its FLOPs depend on it). */
  #model: ShippedModel | undefined;

  constructor() {
    super();
    this.session = undefined;
    this.shipped = undefined;
    this._source = 'upload';
    this._mode = 'tokens';
    this._busy = false;
    this._inputs = {};
    new SessionWatcher(this, {
      session: (session, signal) => {
        const balance = (ledger: { balance(grant: number): number }) => {
          const grant = (this.#market?.params.grant ?? DEFAULT_PARAMS.grant) * 1e6;
          this._balance = ledger.balance(grant);
        };
        void session.ledger().then((ledger) => {
          if (signal.aborted) return;
          balance(ledger);
          ledger.addEventListener('books', () => balance(ledger), { signal });
        });
        this.#watchMarket(session.market, signal);
        session.addEventListener('ledger', (e) => this.#watchMarket(e.detail, signal), { signal });
      },
      mesh: () => {},
    });
  }

  /** Follows the market's price: the field shows it until the researcher types their own. */
  #watchMarket(market: LedgerService | undefined, signal: AbortSignal) {
    this.#forMarket?.abort();
    this.#market = market;
    this._quote = market?.quote;
    if (!market) return;
    const ctl = new AbortController();
    this.#forMarket = ctl;
    const forMarket = AbortSignal.any([signal, ctl.signal]);
    const follow = () => {
      this._quote = market.quote;
      void this.updateComplete.then(() => this.#readForms());
    };
    market.addEventListener('price', follow, { signal: forMarket });
    market.addEventListener('quote', follow, { signal: forMarket });
  }

  override firstUpdated() {
    // After this update, not during it: the estimate reads the fields it rendered.
    void this.updateComplete.then(() => this.#readForms());
  }

  override render() {
    const policy = defaultPolicy(this._mode);
    // The mesh's voted default for canaries in logits jobs (src/ledger/params.ts).
    const canaryRate =
      this._mode === 'logits'
        ? (this.session?.market?.params.canaryRate ?? policy.canaryRate)
        : policy.canaryRate;
    return html`<section aria-labelledby="research-title">
      <h2 id="research-title">Submit work (researchers)</h2>
      <p class="muted">
        Your data stays in this tab until contributors lease a shard; every result is verified here
        before it counts. Jobs are saved in this browser and resume if you reload.
      </p>
      <h3 id="matmul-title">Matrix multiply C = A·B</h3>
      <form
        id="matmul-form"
        aria-labelledby="matmul-title"
        novalidate
        @submit=${this.#submitMatmul}
        @input=${() => this.#readForms()}
        @change=${(e: Event) => this.#chose(e)}
      >
        <fieldset>
          <legend>Matrices</legend>
          <label class="inline"
            ><input
              type="radio"
              name="source"
              value="upload"
              .checked=${this._source === 'upload'}
              @change=${() => this.#setSource('upload')}
            />
            Upload A and B</label
          >
          <label class="inline"
            ><input
              type="radio"
              name="source"
              value="random"
              .checked=${this._source === 'random'}
              @change=${() => this.#setSource('random')}
            />
            Random, of given sizes</label
          >
        </fieldset>
        ${
          this._source === 'upload'
            ? html`<fieldset>
              <legend>Files: .npy (float32 or float64) or safetensors (one 2-D tensor)</legend>
              <label>A (M×K) <input type="file" id="file-a" name="a" accept=".npy,.safetensors" /></label>
              <label>B (K×N) <input type="file" id="file-b" name="b" accept=".npy,.safetensors" /></label>
            </fieldset>`
            : html`<fieldset>
              <legend>Sizes</legend>
              <label>M <input id="mm-m" name="m" type="number" min="1" max=${MAX_DIM} value="512" /></label>
              <label>K <input id="mm-k" name="k" type="number" min="1" max=${MAX_DIM} value="256" /></label>
              <label>N <input id="mm-n" name="n" type="number" min="1" max=${MAX_DIM} value="512" /></label>
            </fieldset>`
        }
        <fieldset>
          <legend>Sharding and verification</legend>
          <label
            >Shard block (rows = columns of C; empty: sized to contributors' GPUs)
            <input id="mm-block" name="block" type="number" min="8" max="4096" placeholder="auto"
          /></label>
          <p class="muted">Every shard is checked with Freivalds' algorithm before it counts.</p>
        </fieldset>
        ${this.#payment('mm')}
        <button type="submit" id="submit-button" ?disabled=${this._busy}>Shard, send and verify</button>
      </form>
      ${formMessage('job-result', this._matmulMessage)}

      <h3 id="infer-title">Batched inference on the shipped model</h3>
      <form
        id="infer-form"
        aria-labelledby="infer-title"
        novalidate
        @submit=${this.#submitInference}
        @input=${() => this.#useModel()}
        @change=${() => this.#useModel()}
      >
        <label
          >Prompts, one a line
          <textarea name="prompts" id="prompts" rows="4" cols="40">
And God said,
In the beginning
And Moses spake</textarea
          ></label
        >
        <label
          >Output
          <select
            name="mode"
            id="infer-mode"
            @change=${(e: Event) => {
              this._mode = (e.target as HTMLSelectElement).value === 'logits' ? 'logits' : 'tokens';
              void this.updateComplete.then(() => this.#readForms());
            }}
          >
            <option value="tokens" ?selected=${this._mode === 'tokens'}>generated text</option>
            <option value="logits" ?selected=${this._mode === 'logits'}>next-character logits</option>
          </select></label
        >
        ${
          this._mode === 'tokens'
            ? html`<label>Characters to generate <input name="steps" type="number" min="1" max="64" value="24" /></label>
              <label>Temperature <input name="temperature" type="number" min="0" max="2" step="0.1" value="0" /></label>`
            : nothing
        }
        <fieldset>
          <legend>Verification</legend>
          <label
            >Copies that must agree
            <input id="infer-copies" name="copies" type="number" min="1" max="3" .value=${String(policy.copies)}
          /></label>
          <label
            >Canary shards (%)
            <input
              id="infer-canary"
              name="canary"
              type="number"
              min="0"
              max="100"
              step="any"
              .value=${String(+(canaryRate * 100).toFixed(2))}
          /></label>
          <label
            >Shards the owner re-checks (%)
            <input
              id="infer-spot"
              name="spot"
              type="number"
              min="0"
              max="100"
              step="any"
              .value=${String(policy.spotCheckRate * 100)}
          /></label>
        </fieldset>
        ${this.#payment('infer')}
        <button type="submit" id="infer-button" ?disabled=${this._busy}>Run on the mesh</button>
      </form>
      ${formMessage('infer-result', this._inferMessage)}
      <tessel-workloads .session=${this.session} .quote=${this._quote} .market=${this.#market}
        .balance=${this._balance} .shippedUrl=${SHIPPED_MODEL_URL}></tessel-workloads>
    </section>`;
  }

  async #submitMatmul(ev: SubmitEvent) {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    this._busy = true;
    this._matmulMessage = undefined;
    try {
      const block = optionalInt(form, 'block', 8, 4096);
      let problem: { a: Float32Array; b: Float32Array; m: number; k: number; n: number };
      if (this._source === 'random') {
        const [m, k, n] = ['m', 'k', 'n'].map((f) => requiredInt(form, f, 1, MAX_DIM)) as [
          number,
          number,
          number,
        ];
        problem = randomProblem(m, k, n, cryptoRng());
      } else {
        const [a, b] = await Promise.all([
          this.#upload(form, 'a', 'A'),
          this.#upload(form, 'b', 'B'),
        ]);
        problem = uploadedProblem(a, b);
      }
      const terms = readTerms(form);
      const mesh = await this.#mesh();
      const run = await mesh.submitMatmul(
        problem,
        block ? { blockRows: block, blockCols: block } : undefined,
        terms,
      );
      this._matmulMessage = {
        text: `Submitted job ${run.jobId}: C is ${problem.m}×${problem.n} in ${run.job.shardCount} shard(s). Waiting for contributors.`,
        kind: 'ok',
      };
    } catch (e) {
      this._matmulMessage = { text: describeError(e), kind: 'error' };
    } finally {
      this._busy = false;
    }
  }

  async #submitInference(ev: SubmitEvent) {
    ev.preventDefault();
    const form = ev.target as HTMLFormElement;
    this._busy = true;
    this._inferMessage = undefined;
    try {
      const texts = readPrompts(form);
      const mode = this._mode;
      if (!this.shipped) throw new InputError('The shipped model is not available on this page.');
      const model = await this.shipped();
      const work = readInference(form, texts, mode, model);
      const terms = readTerms(form);
      const mesh = await this.#mesh();
      const request: InferenceRequest = {
        model: this.#digest ? { digest: this.#digest } : { files: model.files, name: model.name },
        ...work,
      };
      const run = await mesh.submitInference(request, terms);
      this.#digest = run.job.modelDigest;
      this._inferMessage = {
        text: `Submitted job ${run.jobId}: ${texts.length} sequence(s) in ${run.job.shardCount} shard(s). Contributors without the model fetch it from this tab.`,
        kind: 'ok',
      };
    } catch (e) {
      this._inferMessage = { text: describeError(e), kind: 'error' };
    } finally {
      this._busy = false;
    }
  }

  /** Price and budget fields, the mesh's price, and what the job would cost and take. */
  #payment(prefix: Form) {
    return paymentFields(prefix, {
      quote: this._quote,
      market: this.#market,
      balance: this._balance,
      inputs: this._inputs[prefix],
      typed: this.#typed[prefix],
      type: (value) => (this.#typed[prefix] = value),
      useMeshPrice: () => this.#useMeshPrice(prefix),
      join: this.session ? () => void this.session?.join().catch(() => {}) : undefined,
    });
  }

  #useMeshPrice(prefix: Form) {
    delete this.#typed[prefix];
    this.requestUpdate();
    void this.updateComplete.then(() => this.#readForms());
  }

  /** Reads both forms' work and payment fields for the estimate. */
  #readForms() {
    const inputs: Partial<Record<Form, EstimateInputs>> = {};
    for (const [prefix, id] of [
      ['mm', 'matmul-form'],
      ['infer', 'infer-form'],
    ] as const) {
      const form = this.renderRoot.querySelector<HTMLFormElement>(`#${id}`);
      if (!form) continue;
      const field = (name: string) => fieldValue(form, name);
      inputs[prefix] = {
        ...readPayment(field),
        ...(prefix === 'mm'
          ? matmulWork(this._source, field, this.#shapes)
          : inferenceWork(this.#model, this._mode, field)),
      };
    }
    this._inputs = inputs;
  }

  /** The shipped model is loaded once the inference form is used: its FLOPs depend on it. */
  #useModel() {
    if (this.#model || !this.shipped) return this.#readForms();
    this.#readForms();
    this.shipped()
      .then((m) => {
        this.#model = m;
        this.#readForms();
      })
      .catch(() => {}); // a failed fetch is tried again on the next use; submitting says why
  }

  #setSource(source: 'upload' | 'random') {
    this._source = source;
    void this.updateComplete.then(() => this.#readForms());
  }

  /** A chosen matrix file is read at once: a refusal shows before submitting, and the total
   * is known. */
  #chose(e: Event) {
    const input = e.target as HTMLInputElement;
    if (input.type !== 'file' || !input.form) return;
    const name = input.name;
    this.#shapes.delete(name);
    this.#readForms();
    this.#upload(input.form, name, name.toUpperCase())
      .then((m) => {
        this.#shapes.set(name, m);
        this.#readForms();
      })
      .catch((err) => (this._matmulMessage = { text: describeError(err), kind: 'error' }));
  }

  /** An upload, read once per chosen file. */
  #upload(form: HTMLFormElement, name: string, label: string): Promise<Matrix> {
    const file = (form.elements.namedItem(name) as HTMLInputElement | null)?.files?.[0];
    const held = this.#uploads.get(name);
    if (file && held?.file === file) return held.matrix;
    const matrix = readUpload(form, name, label);
    if (file) this.#uploads.set(name, { file, matrix });
    matrix.catch(() => this.#uploads.delete(name));
    return matrix;
  }

  async #mesh() {
    if (!this.session) throw new InputError('This page has no session to submit from.');
    return this.session.join();
  }
}

customElements.get('tessel-researcher') ??
  customElements.define('tessel-researcher', TesselResearcher);
