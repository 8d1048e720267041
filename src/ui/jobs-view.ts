import { html, LitElement, nothing } from 'lit';
import type { JobSpec } from '../jobs/kinds';
import { PRICE_CEILING, PRICE_FLOOR } from '../jobs/price';
import type { Mesh } from '../mesh/mesh';
import type { JobView } from '../mesh/read-model';
import { describeError, type GeneratedText, type Pace } from './format';
import {
  type AnswerSoFar,
  generatedTexts,
  type JobFile,
  textsFile,
  valuesFile,
  verifiedFiles,
} from './job-files';
import { type JobActions, type JobList, jobItem, topUp } from './job-item';
import { RowJobs } from './row-jobs';
import { isRowKind } from './row-progress';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import type { ShippedModel } from './shipped-model';
import { base, jobsCss } from './styles';

/**
 * `<tessel-jobs>`: this tab's jobs as their owner, and those kept from earlier visits. Each
 * shows a progress bar (verified, awaiting verification, leased), the time left from its pace
 * ("waiting" while it cannot progress, with why and what helps), its price (changeable while it
 * runs), what its credits bought, Cancel while it runs, Delete once it ended, and the downloads:
 * C as .npy, generated texts as JSONL, logits as .npy; of a cancelled or stalled job, what was
 * verified so far with a mask. Fed by the mesh's `job` events, refreshed each second while a
 * job runs.
 *
 * Selectors: `#my-jobs > li[data-job-id][data-state][data-history][data-stall]`; in it `.stall`
 * (role=status, `data-reason`), buttons `.split`, `.lift`, `.add-budget`, `.cancel`, `.delete`,
 * `.download` (every download; `.partial` and `.mask` for what was verified so far),
 * `form.set-price` (input `name=price`, button "Set price"), `.eta[data-eta]`, `.bought`,
 * `.job-note` (role=status).
 *
 * Each job's `<li>` is drawn by job-item.ts; this element keeps the jobs and runs their
 * actions. The pure parts are in format.ts (time left, what credits bought) and job-files.ts
 * (the files), each unit-tested.
 */
export class TesselJobs extends LitElement {
  static override properties = {
    session: { attribute: false },
    shipped: { attribute: false },
    _jobs: { state: true },
    _texts: { state: true },
    _notes: { state: true },
    _error: { state: true },
  };
  static override styles = [base, jobsCss];
  declare session: TabSession | undefined;
  declare shipped: (() => Promise<ShippedModel>) | undefined;
  declare _jobs: JobView[];
  /** Each generation job's decoded sequences (those verified, for a partial one). */
  declare _texts: Map<string, GeneratedText[]>;
  /** The latest outcome of an action on a job, shown under it. */
  declare _notes: Map<string, { text: string; error: boolean }>;
  declare _error: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Each running job's pace, as this view has seen it. */
  readonly #pace = new Map<string, Pace>();
  /** The data-set jobs' rows verified and results files. */
  readonly #rows = new RowJobs(
    () => this.session,
    () => this.requestUpdate(),
  );

  constructor() {
    super();
    this.session = undefined;
    this.shipped = undefined;
    this._jobs = [];
    this._texts = new Map();
    this._notes = new Map();
    new SessionWatcher(this, { mesh: (mesh, signal) => this.#watch(mesh, signal) });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearInterval(this.#timer);
    this.#rows.dispose();
  }

  override willUpdate(changed: Map<string, unknown>) {
    if (changed.has('_jobs')) this.#rows.track(this._jobs);
  }

  #watch(mesh: Mesh | undefined, signal: AbortSignal) {
    clearInterval(this.#timer);
    if (!mesh) return void this.#listKept(signal);
    this._jobs = mesh.snapshot().jobs;
    for (const j of this._jobs) this.#decodeIfText(j);
    mesh.addEventListener('job', (e) => this.#update(e.detail), { signal });
    mesh.addEventListener('deleted', (e) => this.#forget(e.detail), { signal });
    // Leases move without events; a running job's bar and estimate are redrawn each second.
    const timer = setInterval(() => {
      if (this._jobs.some((j) => j.state === 'running')) this._jobs = mesh.snapshot().jobs;
    }, 1_000);
    this.#timer = timer;
    signal.addEventListener('abort', () => clearInterval(timer));
  }

  /** Off the mesh: the jobs kept from earlier visits, with their downloads (IndexedDB). */
  async #listKept(signal: AbortSignal) {
    const session = this.session;
    if (!session) return;
    try {
      const jobs = await (await session.history()).list();
      if (signal.aborted) return;
      this._jobs = jobs;
      for (const j of jobs) this.#decodeIfText(j);
    } catch (e) {
      if (!signal.aborted) this._error = `Your kept jobs could not be read: ${describeError(e)}`;
    }
  }

  #update(view: JobView) {
    const i = this._jobs.findIndex((j) => j.jobId === view.jobId);
    this._jobs = i < 0 ? [...this._jobs, view] : this._jobs.map((j, k) => (k === i ? view : j));
    this.#decodeIfText(view);
  }

  /** A generation job that ended shows its texts (those verified, if it was cancelled). */
  #decodeIfText(j: JobView) {
    if (j.kind === 'inference' && j.state !== 'running' && !this._texts.has(j.jobId)) {
      void this.#decode(j.jobId).catch(() => undefined);
    }
  }

  override render() {
    if (!this._jobs.length) return nothing;
    const now = Date.now();
    const list: JobList = {
      mesh: this.session?.mesh,
      texts: this._texts,
      notes: this._notes,
      paces: this.#pace,
      rows: this.#rows.views,
      actions: this.#actions,
    };
    return html`<section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Your jobs</h2>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      <ul id="my-jobs">
        ${this._jobs.map((j) => jobItem(j, now, list))}
      </ul>
    </section>`;
  }

  /** What each job's buttons and price form run. */
  readonly #actions: JobActions = {
    cancel: (jobId) => void this.#cancel(jobId),
    delete: (jobId) => this.#delete(jobId),
    addBudget: (j) => this.#addBudget(j),
    split: (jobId) => this.#split(jobId),
    liftAll: (jobId) => this.#liftAll(jobId),
    setPrice: (e, jobId) => this.#setPrice(e, jobId),
    download: (jobId, what) =>
      void this.#act(jobId, () =>
        what === 'all'
          ? this.#downloadAll(jobId)
          : what === 'texts'
            ? this.#downloadTexts(jobId)
            : this.#downloadPartial(jobId, what === 'values' ? 0 : 1),
      ),
  };

  /** Runs an action on a job; its outcome or error is shown under the job. */
  async #act(jobId: string, what: () => Promise<unknown>) {
    try {
      const text = await what();
      if (typeof text === 'string') this.#note(jobId, text, false);
    } catch (e) {
      this.#note(jobId, describeError(e), true);
    }
  }

  #note(jobId: string, text: string, error: boolean) {
    this._notes = new Map(this._notes).set(jobId, { text, error });
  }

  #addBudget(j: JobView) {
    void this.#act(j.jobId, async () => {
      await this.session?.mesh?.addBudget(j.jobId, topUp(j));
    });
  }

  async #cancel(jobId: string) {
    try {
      await this.session?.mesh?.cancel(jobId);
    } catch (e) {
      this._error = describeError(e);
    }
  }

  #delete(jobId: string) {
    void this.#act(jobId, async () => {
      const session = this.session;
      if (!session) return;
      if (session.mesh) await session.mesh.deleteJob(jobId);
      else await (await session.history()).delete(jobId);
      this.#forget(jobId);
    });
  }

  /** A deleted job leaves the list, with everything this view kept of it. */
  #forget(jobId: string) {
    this._jobs = this._jobs.filter((j) => j.jobId !== jobId);
    this.#pace.delete(jobId);
    this.#rows.forget(jobId);
    const texts = new Map(this._texts);
    const notes = new Map(this._notes);
    texts.delete(jobId);
    notes.delete(jobId);
    this._texts = texts;
    this._notes = notes;
  }

  #split(jobId: string) {
    void this.#act(jobId, async () => {
      const mesh = this.session?.mesh;
      if (!mesh) return;
      return `Split ${mesh.splitShards(jobId)} shard(s) into smaller ones.`;
    });
  }

  #liftAll(jobId: string) {
    void this.#act(jobId, async () => {
      const mesh = this.session?.mesh;
      const peers = mesh?.snapshot().peers.filter((p) => p.quarantined) ?? [];
      for (const p of peers) mesh?.lift(p.id);
      return `Lifted the quarantine of ${peers.length} peer(s).`;
    });
  }

  #setPrice(e: SubmitEvent, jobId: string) {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).elements.namedItem('price') as HTMLInputElement;
    const price = Number(input.value);
    void this.#act(jobId, async () => {
      if (input.value.trim() === '' || !(price >= PRICE_FLOOR && price <= PRICE_CEILING)) {
        throw new RangeError(
          `the price must be a number from ${PRICE_FLOOR} to ${PRICE_CEILING} credits per GFLOP`,
        );
      }
      await this.session?.mesh?.setPrice(jobId, price);
      return `Price set to ${price} credits per GFLOP.`;
    });
  }

  /** The job's answer and request (from the mesh, or off it from the kept jobs), or an error
   * saying why there is none. */
  async #answer(jobId: string): Promise<AnswerSoFar & { js: JobSpec }> {
    const session = this.session;
    if (!session) throw new Error('this page has no session');
    const mesh = session.mesh;
    // A kept job's answer carries its request; a running one's is the mesh's.
    const got: (AnswerSoFar & { js?: JobSpec }) | undefined = await (
      mesh ?? (await session.history())
    ).answer(jobId);
    if (!got) throw new Error(`job ${jobId} has no answer kept`);
    const js = got.js ?? mesh?.request(jobId);
    if (!js) throw new Error(`job ${jobId}: its request is not kept in this tab`);
    return { ...got, js };
  }

  /** C or logits as .npy; generated texts as JSONL. */
  async #downloadAll(jobId: string) {
    const asked = this.session?.mesh?.request(jobId);
    if (asked && isRowKind(asked.kind)) return this.#rowResults(jobId, asked, false);
    const { js, answer } = await this.#answer(jobId);
    if (isRowKind(js.kind)) return this.#rowResults(jobId, js, false);
    if (js.kind === 'inference' && js.spec.mode === 'tokens') return this.#downloadTexts(jobId);
    save(this, valuesFile(jobId, js, answer));
  }

  /** What was verified so far: the values (unverified ones 0) or their mask. */
  async #downloadPartial(jobId: string, part: 0 | 1) {
    const got = await this.#answer(jobId);
    save(this, verifiedFiles(jobId, got.js, got)[part]);
  }

  /** A data-set job's results file (all rows, or those verified so far), offered as a link. */
  #rowResults(jobId: string, js: JobSpec, partial: boolean) {
    return this.#rows.build(jobId, js, partial, (text) => this.#note(jobId, text, false));
  }

  async #downloadTexts(jobId: string) {
    const js = this.session?.mesh?.request(jobId);
    if (js && isRowKind(js.kind)) return this.#rowResults(jobId, js, true);
    const texts = await this.#decode(jobId);
    if (!texts) throw new Error(`job ${jobId} has no generated texts`);
    save(this, textsFile(jobId, texts));
  }

  /** Prompt and continuation of each verified sequence of a generation job. */
  async #decode(jobId: string): Promise<GeneratedText[] | undefined> {
    const got = await this.#answer(jobId);
    if (got.js.kind !== 'inference' || got.js.spec.mode !== 'tokens' || !this.shipped) return;
    const texts = generatedTexts(got.js, got, (await this.shipped()).vocab);
    // Shown under the job once it ended (a running job's would go stale).
    const state = this._jobs.find((j) => j.jobId === jobId)?.state;
    if (got.complete || (state && state !== 'running')) {
      this._texts = new Map(this._texts).set(jobId, texts);
    }
    return texts;
  }
}

/** Offers a file as a download from inside the element's shadow root. */
function save(host: LitElement, { name, bytes }: JobFile) {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart]));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  host.renderRoot.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

customElements.get('tessel-jobs') ?? customElements.define('tessel-jobs', TesselJobs);
