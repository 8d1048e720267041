import { html, LitElement, nothing } from 'lit';
import type { VerificationReport } from '../jobs/job';
import type { JobSpec } from '../jobs/kinds';
import { credits, PRICE_CEILING, PRICE_FLOOR } from '../jobs/price';
import type { Mesh } from '../mesh/mesh';
import type { JobView } from '../mesh/read-model';
import {
  boughtText,
  describeError,
  type Eta,
  formatDuration,
  type GeneratedText,
  jobEta,
  nextPace,
  type Pace,
  short,
} from './format';
import {
  type AnswerSoFar,
  generatedTexts,
  type JobFile,
  textsFile,
  valuesFile,
  verifiedFiles,
} from './job-files';
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
 * Over 450 lines: one list whose every action (cancel, delete, price, split, lift, add credits,
 * five downloads) is a few lines of template and handler; the pure parts are in format.ts
 * (time left, what credits bought) and job-files.ts (the files), each unit-tested.
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
    return html`<section aria-labelledby="jobs-title">
      <h2 id="jobs-title">Your jobs</h2>
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      <ul id="my-jobs">
        ${this._jobs.map((j) => this.#job(j, now))}
      </ul>
    </section>`;
  }

  #job(j: JobView, now: number) {
    const p = j.progress;
    const pct = (n: number) => `${(100 * n) / Math.max(1, p.shards)}%`;
    const texts = this._texts.get(j.jobId);
    const note = this._notes.get(j.jobId);
    const r = j.report;
    const name = jobName(j);
    const budget = Number.isFinite(j.budget)
      ? `${credits(j.budget).toFixed(3)} credits`
      : 'no ceiling';
    const running = j.state === 'running';
    const partial = (j.state === 'cancelled' || (running && j.stall)) && p.verified > 0;
    return html`<li
      data-job-id=${j.jobId}
      data-state=${j.state}
      data-accepted=${r.accepted}
      data-budget-spent=${j.budgetSpent}
      data-history=${j.history}
      data-stall=${j.stall?.reason ?? ''}
    >
      <div>
        <strong>${j.kind}</strong> job <code>${j.jobId}</code>: ${j.summary}
        ${j.resumed ? html`<span class="muted">(resumed after a reload)</span>` : nothing}
        ${j.history ? html`<span class="muted">(kept from an earlier visit)</span>` : nothing}
        — <span class=${j.state === 'done' ? 'ok' : ''}>${stateText(j)}</span>
      </div>
      <div
        class="bar"
        role="progressbar"
        aria-label="Shards verified of job ${j.jobId}"
        aria-valuemin="0"
        aria-valuemax=${p.shards}
        aria-valuenow=${p.verified}
        aria-valuetext="${p.verified} of ${p.shards} shards verified"
      >
        <span class="verified" style="width:${pct(p.verified)}"></span>
        <span class="awaiting" style="width:${pct(p.awaiting)}"></span>
        <span class="leased" style="width:${pct(p.leased)}"></span>
      </div>
      <p class="counts">
        ${p.verified}/${p.shards} shards verified, ${p.awaiting} awaiting verification, ${p.leased}
        leased${r.restored ? ` (${r.restored} from before the reload)` : ''}; ${r.rejected}
        rejected, ${r.reassignments} reassigned${running ? '; ' : ''}${running ? this.#eta(j, now) : nothing}.
      </p>
      ${running ? this.#stall(j) : nothing}
      <p class="spend">
        Paid ${credits(j.spent).toFixed(3)} credits of a budget of ${budget}, at ${j.price} credits
        per GFLOP.
      </p>
      ${running ? this.#priceForm(j) : nothing}
      <p class="bought">${this.#bought(j)}</p>
      <div class="actions">
        ${
          running
            ? html`<button type="button" class="cancel" @click=${() => this.#cancel(j.jobId)}>
              Cancel job ${j.jobId}
            </button>`
            : html`<button type="button" class="delete" aria-label="Delete ${name}" @click=${() => this.#delete(j.jobId)}>
              Delete
            </button>`
        }
        ${
          running && (j.budgetSpent || j.stall?.reason === 'budget')
            ? html`<button type="button" class="add-budget" @click=${() => this.#addBudget(j)}>
              Add ${credits(topUp(j)).toFixed(3)} credits to job ${j.jobId}
            </button>`
            : nothing
        }
        ${j.state === 'done' ? this.#downloads(j, name) : partial ? this.#partial(j, name) : nothing}
      </div>
      ${note ? html`<p class="job-note ${note.error ? 'error' : ''}" role="status">${note.text}</p>` : nothing}
      ${
        texts
          ? html`<ol class="generated">
            ${texts.map((t) => html`<li value=${t.sequence + 1}>${t.prompt}${t.continuation}</li>`)}
          </ol>`
          : nothing
      }
      ${reportDetails(r)}
    </li>`;
  }

  /** What the job's credits bought: shards verified, and GFLOP where known exactly. */
  #bought(j: JobView) {
    const js = this.session?.mesh?.request(j.jobId);
    const gflop =
      js?.kind === 'matmul' && j.state === 'done'
        ? (2 * js.spec.m * js.spec.k * js.spec.n) / 1e9
        : undefined;
    const { verified, shards } = j.progress;
    return boughtText({ spent: j.spent, verified, shards, ...(gflop ? { gflop } : {}) });
  }

  #eta(j: JobView, now: number) {
    const pace = nextPace(this.#pace.get(j.jobId), j.progress, now);
    this.#pace.set(j.jobId, pace);
    const eta = jobEta(j.progress, pace, now, j.stall !== undefined);
    return html`<span class="eta" data-eta=${eta.kind}>${etaText(eta)}</span>`;
  }

  /** Why a running job cannot progress, and the action that helps, as a button. */
  #stall(j: JobView) {
    const s = j.stall;
    if (!s) {
      // Without a stall reported, the older flags still say why nothing is leased.
      if (j.budgetSpent) {
        return html`<p class="stall error" role="status" data-reason="budget">Budget spent: no more shards are leased.</p>`;
      }
      if (j.balanceLow) {
        return html`<p class="stall error" role="status" data-reason="balance">
          Your balance cannot pay for more shards: contribute your GPU to earn credit, and the job
          goes on.
        </p>`;
      }
      return nothing;
    }
    const quarantined = this.session?.mesh?.snapshot().peers.filter((p) => p.quarantined) ?? [];
    return html`<p class="stall" role="status" data-reason=${s.reason} data-action=${s.action ?? ''}>
      <strong>Waiting:</strong> ${s.message}
      ${
        s.action === 'split'
          ? html`<button type="button" class="split" @click=${() => this.#split(j.jobId)}>
              Use smaller shards for job ${j.jobId}
            </button>`
          : s.action === 'lift'
            ? html`<button
                  type="button"
                  class="lift"
                  ?disabled=${quarantined.length === 0}
                  @click=${() => this.#liftAll(j.jobId)}
                >
                  Lift the quarantine of ${quarantined.length} peer(s)
                </button>
                <span class="muted">(or one by one, with their reasons, under Mesh › Peers)</span>`
            : s.action === 'add-credits' && s.reason === 'balance'
              ? html`<span class="muted">Contribute your GPU to earn credit.</span>`
              : nothing
      }
    </p>`;
  }

  #priceForm(j: JobView) {
    return html`<form class="set-price" novalidate @submit=${(e: SubmitEvent) => this.#setPrice(e, j.jobId)}>
      <label
        >Price, credits per GFLOP
        <input
          name="price"
          type="number"
          min=${PRICE_FLOOR}
          max=${PRICE_CEILING}
          step="any"
          .value=${String(j.price)}
          aria-label="New price of job ${j.jobId}, credits per GFLOP"
      /></label>
      <button type="submit" aria-label="Set the price of job ${j.jobId}">Set price</button>
    </form>`;
  }

  #downloads(j: JobView, name: string) {
    const button = (label: string, what: () => Promise<void>) =>
      html`<button type="button" class="download" aria-label="${label} of ${name}" @click=${() => this.#act(j.jobId, what)}>
        ${label}
      </button>`;
    if (j.kind === 'matmul') return button('Download C (.npy)', () => this.#downloadAll(j.jobId));
    // A kept job's request is read back with its answer: until then its mode may be unknown.
    const js = this.session?.mesh?.request(j.jobId);
    const mode = js?.kind === 'inference' ? js.spec.mode : this._texts.has(j.jobId) ? 'tokens' : '';
    return button(
      mode === 'logits'
        ? 'Download logits (.npy)'
        : mode === 'tokens'
          ? 'Download texts (.jsonl)'
          : 'Download the results',
      () => this.#downloadAll(j.jobId),
    );
  }

  /** What a cancelled or stalled job verified so far: the values with a mask, or the texts. */
  #partial(j: JobView, name: string) {
    const button = (cls: string, label: string, what: () => Promise<void>) =>
      html`<button type="button" class="download partial ${cls}" aria-label="${label} of ${name}" @click=${() => this.#act(j.jobId, what)}>
        ${label}
      </button>`;
    const js = this.session?.mesh?.request(j.jobId);
    if (j.kind === 'inference' && (js?.kind !== 'inference' || js.spec.mode === 'tokens')) {
      return button('', 'Download the texts verified so far (.jsonl)', () =>
        this.#downloadTexts(j.jobId),
      );
    }
    const what = j.kind === 'matmul' ? 'C' : 'logits';
    return html`${button('', `Download the verified part of ${what} (.npy)`, () => this.#downloadPartial(j.jobId, 0))}
      ${button('mask', `Download the mask of verified ${what} (.npy)`, () => this.#downloadPartial(j.jobId, 1))}`;
  }

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
    const { js, answer } = await this.#answer(jobId);
    if (js.kind === 'inference' && js.spec.mode === 'tokens') return this.#downloadTexts(jobId);
    save(this, valuesFile(jobId, js, answer));
  }

  /** What was verified so far: the values (unverified ones 0) or their mask. */
  async #downloadPartial(jobId: string, part: 0 | 1) {
    const got = await this.#answer(jobId);
    save(this, verifiedFiles(jobId, got.js, got)[part]);
  }

  async #downloadTexts(jobId: string) {
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

/** A job as buttons name it: its short id and what it asked. */
function jobName(j: JobView): string {
  return `job ${short(j.jobId)} (${j.summary})`;
}

function stateText(j: JobView): string {
  const when = j.finishedAt ? ` ${new Date(j.finishedAt).toLocaleString()}` : '';
  return j.state === 'done'
    ? `done, every shard verified${when ? `,${when}` : ''}`
    : j.state === 'cancelled'
      ? `cancelled${when}`
      : 'running';
}

function etaText(eta: Eta): string {
  switch (eta.kind) {
    case 'waiting':
      return 'time left: waiting';
    case 'unknown':
      return 'time left: after the next verified shard';
    case 'left':
      return `about ${formatDuration(eta.ms)} left`;
  }
}

/** What "Add budget" adds: what the job has spent so far (doubling it), at least 1 credit. */
function topUp(j: JobView): number {
  return Math.max(1e6, j.spent);
}

function reportDetails(r: VerificationReport) {
  const rows: [string, string][] = [
    ['Shards (canaries included)', String(r.shards)],
    ['Verified', String(r.accepted)],
    ['Rejected', String(r.rejected)],
    ['Reassigned', String(r.reassignments)],
    ['Redundant copies', `${(100 * r.redundancyOverhead).toFixed(0)}%`],
  ];
  if (r.kind === 'inference') {
    rows.push(
      ['Canaries (failed)', `${r.canaries} (${r.canariesFailed})`],
      ['Owner checks (failed)', `${r.spotChecks} (${r.spotChecksFailed})`],
      ['Copies that disagreed', String(r.disagreements)],
    );
  }
  rows.push(
    ['Verification time', `${r.verifyMs.toFixed(0)} ms`],
    ['Verification ÷ compute', `${(100 * r.verifyOverCompute).toFixed(2)}%`],
  );
  return html`<details>
    <summary>Verification report</summary>
    <dl class="report">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
  </details>`;
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
