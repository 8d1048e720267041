import { html, LitElement, nothing } from 'lit';
import { defaultPolicy, type InferencePolicy, shardFlops } from '../jobs/inference-spec';
import { randomProblem } from '../jobs/matmul-job';
import {
  credits,
  estimateJob,
  type MarketSample,
  matmulFlops,
  PRICE_CEILING,
  PRICE_EPOCH_MS,
  PRICE_FLOOR,
  START_PRICE,
} from '../jobs/price';
import { DEFAULT_PARAMS } from '../ledger/params';
import type { PriceQuote } from '../ledger/price-book';
import type { LedgerService } from '../ledger/service';
import type { InferenceRequest } from '../mesh/mesh';
import type { JobTerms } from '../mesh/terms';
import { parseGptConfig } from '../model/gpt';
import { type Matrix, readMatrix } from '../model/matrix-file';
import { TensorFileError } from '../model/npy';
import { cryptoRng } from '../model/rng';
import { describeError, formatBytes, formatDuration } from './format';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { encodeText, type ShippedModel } from './shipped-model';
import { base } from './styles';

// Over 450 lines: both forms share their payment part (the mesh's price, live, and what the job
// would cost and take), which reads each form's own work fields; apart, those would have to be
// passed back and forth.

/** Largest dimension the form takes (the job spec allows up to 65,536). */
const MAX_DIM = 16_384;

/**
 * Largest matrix file this browser is asked to hold: A, B and C stay in the researcher's tab
 * (and its IndexedDB, so a reload resumes the job) until the job ends.
 */
export function maxMatrixBytes(): number {
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? 4;
  return Math.min(2 ** 30, (gib * 2 ** 30) / 8);
}

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
  declare _matmulMessage: { text: string; kind: 'ok' | 'error' } | undefined;
  declare _inferMessage: { text: string; kind: 'ok' | 'error' } | undefined;
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
      ${message('job-result', this._matmulMessage)}

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
      ${message('infer-result', this._inferMessage)}
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
        if (a.cols !== b.rows) {
          throw new InputError(
            `A is ${a.rows}×${a.cols} and B is ${b.rows}×${b.cols}: A's columns must equal B's rows.`,
          );
        }
        for (const [name, mat] of [['A', a] as const, ['B', b] as const]) {
          if (mat.rows > MAX_DIM || mat.cols > MAX_DIM) {
            throw new InputError(`${name} is ${mat.rows}×${mat.cols}: at most ${MAX_DIM} a side.`);
          }
        }
        problem = { a: a.data, b: b.data, m: a.rows, k: a.cols, n: b.cols };
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
      const field = (name: string) =>
        (form.elements.namedItem(name) as HTMLInputElement | HTMLTextAreaElement | null)?.value ??
        '';
      const texts = field('prompts')
        .split('\n')
        .filter((line) => line.length > 0);
      const mode = this._mode;
      if (!this.shipped) throw new InputError('The shipped model is not available on this page.');
      const model = await this.shipped();
      if (texts.length === 0 || texts.length > 1_024) {
        throw new InputError('Type 1 to 1,024 prompts, one a line.');
      }
      const longest = Math.max(...texts.map((t) => t.length));
      if (longest > model.maxSeq) {
        throw new InputError(
          `A prompt is longer than the model's context of ${model.maxSeq} characters.`,
        );
      }
      const steps =
        mode === 'tokens'
          ? requiredInt(form, 'steps', 1, model.maxSeq - longest + 1, 'Characters to generate')
          : 0;
      const temperature = mode === 'tokens' ? Number(field('temperature')) : 0;
      if (!(temperature >= 0 && temperature <= 2)) {
        throw new InputError('Temperature must be a number from 0 to 2.');
      }
      const policy: Partial<InferencePolicy> = {
        copies: requiredInt(form, 'copies', 1, 3, 'Copies that must agree'),
        canaryRate: percent(form, 'canary', 'Canary shards'),
        spotCheckRate: percent(form, 'spot', 'Shards the owner re-checks'),
      };
      const sequences: Uint32Array[] = [];
      for (const t of texts) {
        const ids = encodeText(model.vocab, t);
        if ('unknown' in ids) {
          throw new InputError(
            `The model has never seen ${ids.unknown.map((c) => JSON.stringify(c)).join(', ')}: use plain letters and punctuation.`,
          );
        }
        sequences.push(ids);
      }
      const terms = readTerms(form);
      const mesh = await this.#mesh();
      const request: InferenceRequest = {
        model: this.#digest ? { digest: this.#digest } : { file: model.file, config: model.config },
        sequences,
        output: mode === 'logits' ? { mode } : { mode, steps, temperature },
        policy,
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
    const q = this._quote;
    const mesh = q?.state === 'price' ? q.price : undefined;
    const typed = this.#typed[prefix];
    return html`<fieldset>
      <legend>Payment (credits are paid only for verified shards)</legend>
      <label
        >Price, credits per GFLOP
        <input
          id="${prefix}-price"
          name="price"
          type="number"
          min=${PRICE_FLOOR}
          max=${PRICE_CEILING}
          step="any"
          .value=${typed ?? String(+(mesh ?? START_PRICE).toFixed(3))}
          @input=${(e: Event) => (this.#typed[prefix] = (e.target as HTMLInputElement).value)}
      /></label>
      <label
        >Budget, credits (empty: no ceiling)
        <input id="${prefix}-budget" name="budget" type="number" min="0.000001" step="any" />
      </label>
      <p id="${prefix}-mesh-price" class="muted" data-price=${mesh ?? ''}>
        ${this.#priceLine(mesh, typed !== undefined)}
        ${
          typed !== undefined && mesh !== undefined
            ? html`<button type="button" @click=${() => this.#useMeshPrice(prefix)}>
                Use the mesh's price
              </button>`
            : nothing
        }
        ${
          this.session && !this.#market
            ? html`<button type="button" @click=${() => void this.session?.join().catch(() => {})}>
                Join the mesh to see its price
              </button>`
            : nothing
        }
      </p>
      <p id="${prefix}-estimate" role="status" aria-live="polite">${this.#estimate(prefix)}</p>
    </fieldset>`;
  }

  #priceLine(mesh: number | undefined, typed: boolean): string {
    const q = this._quote;
    const fallback = `until then the field holds the default, ${START_PRICE.toFixed(3)}`;
    if (!q) return `The mesh's price is shown once this tab is in the mesh; ${fallback}.`;
    if (q.state === 'measuring') {
      return `The mesh's price: measuring (${q.seen} of ${q.of} epochs of ${PRICE_EPOCH_MS / 1000} s heard); ${fallback}${typed ? '' : ', then follows the price'}.`;
    }
    return `The mesh's price now: ${mesh?.toFixed(3)} credits per GFLOP, the same in every tab this epoch${typed ? ' (you typed your own)' : ''}.`;
  }

  #useMeshPrice(prefix: Form) {
    delete this.#typed[prefix];
    this.requestUpdate();
    void this.updateComplete.then(() => this.#readForms());
  }

  /** The estimated total, checked against the budget and balance, and the estimated time. */
  #estimate(prefix: Form) {
    const i = this._inputs[prefix];
    if (!i) return '';
    if (i.flops === undefined) return i.note ?? '';
    if (!(i.price >= PRICE_FLOOR && i.price <= PRICE_CEILING)) {
      return `Type a price from ${PRICE_FLOOR} to ${PRICE_CEILING} to see the total.`;
    }
    const q = this._quote;
    const sample: MarketSample | undefined = q?.state === 'price' ? q.last : this.#market?.sample();
    const e = estimateJob({
      flops: i.flops,
      price: i.price,
      budget: i.budget,
      balance: this._balance,
      sample,
    });
    const total = `Estimated total: ${fmtCredits(e.total)} credits (${fmtGflop(i.flops / 1e9)} GFLOP × ${i.price} credits per GFLOP${i.note ? `; ${i.note}` : ''}).`;
    const budget = !Number.isFinite(i.budget)
      ? ''
      : e.budgetCovers
        ? ` Within your budget of ${fmtCredits(i.budget)} credits.`
        : ` Your budget of ${fmtCredits(i.budget)} credits would not cover it: the job stops leasing once it is spent (after about ${Math.floor((i.budget / e.total) * 100)}% of the work), until you add credits.`;
    const held = fmtCredits(this._balance ?? 0);
    const balance =
      e.balanceCovers === undefined
        ? ''
        : e.balanceCovers
          ? ` Your balance: ${held} credits.`
          : ` Your balance of ${held} credits would not cover it: the job stops leasing once it is spent, until you earn or add credits.`;
    const time = !sample
      ? ' Estimated time: shown once this tab is in the mesh.'
      : e.seconds === undefined
        ? ' Estimated time: waiting for contributors (none in the mesh now).'
        : ` Estimated time: about ${formatDuration(Math.max(1_000, e.seconds * 1_000))} ${
            e.queuedAhead
              ? `after the work queued ahead (${fmtGflop(sample.supplyGflops)} GFLOP/s of contributors, none idle)`
              : `on the ${fmtGflop(sample.idleGflops)} GFLOP/s of idle contributors`
          }.`;
    const short = !e.budgetCovers || e.balanceCovers === false;
    return html`<span class=${short ? 'error' : ''}>${total}${budget}${balance}</span>${time}`;
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
      const field = (name: string) =>
        (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
      const raw = field('budget');
      const budget = raw === '' ? Number.NaN : Number(raw);
      inputs[prefix] = {
        price: field('price') === '' ? Number.NaN : Number(field('price')),
        budget: budget > 0 ? Math.round(budget * 1e6) : Number.POSITIVE_INFINITY,
        ...(prefix === 'mm' ? this.#matmulWork(field) : this.#inferenceWork(field)),
      };
    }
    this._inputs = inputs;
  }

  #matmulWork(field: (name: string) => string): Pick<EstimateInputs, 'flops' | 'note'> {
    if (this._source === 'random') {
      const [m, k, n] = ['m', 'k', 'n'].map((f) => Number(field(f))) as [number, number, number];
      const ok = [m, k, n].every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_DIM);
      return ok
        ? { flops: matmulFlops(m, k, n) }
        : { note: `Sizes from 1 to ${MAX_DIM} give the total.` };
    }
    const a = this.#shapes.get('a');
    const b = this.#shapes.get('b');
    if (!a || !b) return { note: 'The total is shown once A and B are chosen and read.' };
    if (a.cols !== b.rows) return { note: "The total is shown once A's columns equal B's rows." };
    return { flops: matmulFlops(a.rows, a.cols, b.cols) };
  }

  /** Inference work from the shipped model's shape (src/jobs' shardFlops over every
   * sequence), times the copies paid for and the canary shards. */
  #inferenceWork(field: (name: string) => string): Pick<EstimateInputs, 'flops' | 'note'> {
    const model = this.#model;
    if (!model)
      return { note: 'The total depends on the model: it is shown once this form is used.' };
    const sequences: Uint32Array[] = [];
    for (const t of field('prompts')
      .split('\n')
      .filter((line) => line.length > 0)) {
      const ids = encodeText(model.vocab, t);
      if ('unknown' in ids || t.length > model.maxSeq)
        return { note: 'Fix the prompts to see the total.' };
      sequences.push(ids);
    }
    if (sequences.length === 0) return { note: 'Type prompts to see the total.' };
    const mode = this._mode;
    const steps = mode === 'tokens' ? Number(field('steps')) : 0;
    const copies = Number(field('copies'));
    const canaryRate = Number(field('canary')) / 100;
    if (
      !(
        Number.isInteger(steps) &&
        Number.isInteger(copies) &&
        copies >= 1 &&
        canaryRate >= 0 &&
        canaryRate <= 1
      )
    ) {
      return { note: 'Fix the settings to see the total.' };
    }
    try {
      const spec = {
        modelDigest: '',
        config: parseGptConfig(model.config),
        sequences,
        mode,
        steps,
        temperature: 0,
        seed: 0,
        perShard: sequences.length,
        policy: { ...defaultPolicy(mode), copies, canaryRate },
      };
      const work = shardFlops(spec, { sequences: sequences.map((_, i) => i), canary: false });
      return {
        flops: work * copies * (1 + canaryRate),
        note: `${copies} cop${copies === 1 ? 'y' : 'ies'} paid${canaryRate > 0 ? ', canary shards about included' : ''}`,
      };
    } catch (e) {
      return { note: `The total depends on the model: ${describeError(e)}` };
    }
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

type Form = 'mm' | 'infer';

/** What a form's estimate is computed from. */
interface EstimateInputs {
  /** FLOPs the job would be paid for; undefined while they cannot be known (see `note`). */
  flops?: number;
  note?: string;
  price: number; // credits per GFLOP
  budget: number; // µcredits, Infinity: none
}

const fmtCredits = (micro: number) =>
  credits(micro).toLocaleString('en', { maximumFractionDigits: micro < 1e6 ? 6 : 3 });
const fmtGflop = (g: number) => g.toLocaleString('en', { maximumSignificantDigits: 4 });

/** The job's price and budget from a form's payment fields. */
function readTerms(form: HTMLFormElement): JobTerms {
  const value = (name: string) =>
    (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const price = Number(value('price'));
  if (!(Number.isFinite(price) && price >= PRICE_FLOOR && price <= PRICE_CEILING)) {
    throw new InputError(
      `Price must be a number from ${PRICE_FLOOR} to ${PRICE_CEILING.toLocaleString('en')} credits per GFLOP.`,
    );
  }
  const raw = value('budget');
  const budget = raw === '' ? Number.POSITIVE_INFINITY : Number(raw);
  if (!(budget > 0) || Number.isNaN(budget)) {
    throw new InputError('Budget must be a positive number of credits, or empty for no ceiling.');
  }
  return { price, budget: Number.isFinite(budget) ? Math.round(budget * 1e6) : budget };
}

/** A form value the researcher must fix; shown as it is. */
class InputError extends Error {
  override readonly name = 'InputError';
}

function message(id: string, m: { text: string; kind: 'ok' | 'error' } | undefined) {
  // role=alert for refusals so a screen reader says them at once; status for progress.
  return html`<p id=${id} class=${m?.kind ?? ''} role=${m?.kind === 'error' ? 'alert' : 'status'} aria-live="polite">
    ${m?.text ?? ''}
  </p>`;
}

function requiredInt(
  form: HTMLFormElement,
  name: string,
  min: number,
  max: number,
  label = name.toUpperCase(),
): number {
  const raw = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputError(`${label} must be a whole number from ${min} to ${max}.`);
  }
  return v;
}

function optionalInt(
  form: HTMLFormElement,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  return raw === '' ? undefined : requiredInt(form, name, min, max, 'Shard block');
}

function percent(form: HTMLFormElement, name: string, label: string): number {
  const raw = (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? '';
  const v = Number(raw);
  if (raw === '' || !(v >= 0 && v <= 100)) throw new InputError(`${label} must be 0 to 100 %.`);
  return v / 100;
}

/** Reads and checks one uploaded matrix; a refusal names the file and says why. */
async function readUpload(form: HTMLFormElement, name: string, label: string): Promise<Matrix> {
  const file = (form.elements.namedItem(name) as HTMLInputElement | null)?.files?.[0];
  if (!file) throw new InputError(`Choose a file for ${label}.`);
  const limit = maxMatrixBytes();
  if (file.size > limit) {
    throw new InputError(
      `${label} (${file.name}) is ${formatBytes(file.size)}; this browser can hold at most ${formatBytes(limit)} per matrix.`,
    );
  }
  try {
    return readMatrix(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    if (e instanceof TensorFileError) {
      throw new InputError(`${label} (${file.name}) is refused: ${e.message}.`);
    }
    throw e;
  }
}

customElements.get('tessel-researcher') ??
  customElements.define('tessel-researcher', TesselResearcher);
