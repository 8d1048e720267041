import { css, html, LitElement, nothing } from 'lit';
import type { VerificationReport } from '../jobs/job';
import { credits } from '../jobs/price';
import type { Mesh } from '../mesh/mesh';
import type { JobView } from '../mesh/read-model';
import { writeNpy } from '../model/npy';
import { describeError, estimateRemaining, formatDuration } from './format';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import type { ShippedModel } from './shipped-model';
import { base } from './styles';

/**
 * `<tessel-jobs>`: this tab's jobs as their owner. Each shows a progress bar (verified, awaiting
 * verification, leased), an estimate of the time left from its pace, Cancel while it runs, and
 * once done the downloads (C as .npy, generated texts, logits as .npy) and its verification
 * report. Fed by the mesh's `job` events, refreshed each second while a job runs.
 */
export class TesselJobs extends LitElement {
  static override properties = {
    session: { attribute: false },
    shipped: { attribute: false },
    _jobs: { state: true },
    _texts: { state: true },
    _error: { state: true },
  };
  static override styles = [
    base,
    css`
      ul#my-jobs {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      ul#my-jobs > li {
        border-top: 1px solid #e6ebf0;
        padding: 0.75rem 0;
      }
      .bar {
        display: flex;
        height: 0.9rem;
        background: #eef2f6;
        border-radius: 4px;
        overflow: hidden;
        margin: 0.4rem 0;
      }
      .bar span {
        display: block;
        height: 100%;
      }
      .verified {
        background: #11663f;
      }
      .awaiting {
        background: #c98a00;
      }
      .leased {
        background: #8fb3e8;
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
      }
      ol.generated li {
        font-family: ui-monospace, monospace;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
    `,
  ];
  declare session: TabSession | undefined;
  declare shipped: (() => Promise<ShippedModel>) | undefined;
  declare _jobs: JobView[];
  declare _texts: Map<string, string[]>;
  declare _error: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** When this view first saw each job and how many shards were verified then: its pace. */
  readonly #pace = new Map<string, { since: number; verified: number }>();

  constructor() {
    super();
    this.session = undefined;
    this.shipped = undefined;
    this._jobs = [];
    this._texts = new Map();
    new SessionWatcher(this, { mesh: (mesh, signal) => this.#watch(mesh, signal) });
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearInterval(this.#timer);
  }

  #watch(mesh: Mesh | undefined, signal: AbortSignal) {
    clearInterval(this.#timer);
    if (!mesh) return;
    this._jobs = mesh.snapshot().jobs;
    mesh.addEventListener('job', (e) => this.#update(e.detail), { signal });
    // Leases move without events; a running job's bar and estimate are redrawn each second.
    const timer = setInterval(() => {
      if (this._jobs.some((j) => j.state === 'running')) this._jobs = mesh.snapshot().jobs;
    }, 1_000);
    this.#timer = timer;
    signal.addEventListener('abort', () => clearInterval(timer));
  }

  #update(view: JobView) {
    const i = this._jobs.findIndex((j) => j.jobId === view.jobId);
    this._jobs = i < 0 ? [...this._jobs, view] : this._jobs.map((j, k) => (k === i ? view : j));
    if (view.state === 'done' && view.kind === 'inference') void this.#decode(view.jobId);
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
    const pace = this.#pace.get(j.jobId) ?? { since: now, verified: p.verified };
    this.#pace.set(j.jobId, pace);
    const eta = estimateRemaining(
      p.shards - p.verified,
      p.verified - pace.verified,
      pace.since,
      now,
    );
    const pct = (n: number) => `${(100 * n) / Math.max(1, p.shards)}%`;
    const texts = this._texts.get(j.jobId);
    const r = j.report;
    const budget = Number.isFinite(j.budget)
      ? `${credits(j.budget).toFixed(3)} credits`
      : 'no ceiling';
    return html`<li
      data-job-id=${j.jobId}
      data-state=${j.state}
      data-accepted=${r.accepted}
      data-budget-spent=${j.budgetSpent}
    >
      <div>
        <strong>${j.kind}</strong> job <code>${j.jobId}</code>: ${j.summary}
        ${j.resumed ? html`<span class="muted">(resumed after a reload)</span>` : nothing}
        — <span class=${j.state === 'done' ? 'ok' : ''}>${stateText(j.state)}</span>
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
        rejected, ${r.reassignments} reassigned${j.state === 'running' ? `; ${etaText(eta)}` : ''}.
      </p>
      <p class="spend">
        Paid ${credits(j.spent).toFixed(3)} credits of a budget of ${budget}, at ${j.price} credits
        per GFLOP.
        ${
          j.budgetSpent
            ? html`<strong class="error" role="status">Budget spent: no more shards are leased.</strong>`
            : j.balanceLow
              ? html`<strong class="error" role="status"
                  >Your balance cannot pay for more shards: contribute your GPU to earn credit, and
                  the job goes on.</strong
                >`
              : nothing
        }
      </p>
      <div class="actions">
        ${
          j.state === 'running'
            ? html`<button type="button" class="cancel" @click=${() => this.#cancel(j.jobId)}>
              Cancel job ${j.jobId}
            </button>`
            : nothing
        }
        ${
          j.state === 'running' && j.budgetSpent
            ? html`<button type="button" class="add-budget" @click=${() => this.#addBudget(j)}>
              Add ${credits(topUp(j)).toFixed(3)} credits to job ${j.jobId}
            </button>`
            : nothing
        }
        ${j.state === 'done' ? this.#downloads(j) : nothing}
      </div>
      ${
        texts
          ? html`<ol class="generated">
            ${texts.map((t) => html`<li>${t}</li>`)}
          </ol>`
          : nothing
      }
      ${reportDetails(r)}
    </li>`;
  }

  #downloads(j: JobView) {
    if (j.kind === 'matmul') {
      return html`<button type="button" class="download" @click=${() => this.#downloadC(j.jobId)}>
        Download C (.npy)
      </button>`;
    }
    const spec = this.session?.mesh?.request(j.jobId);
    const logits = spec?.kind === 'inference' && spec.spec.mode === 'logits';
    return logits
      ? html`<button type="button" class="download" @click=${() => this.#downloadLogits(j.jobId)}>
          Download logits (.npy)
        </button>`
      : html`<button type="button" class="download" @click=${() => this.#downloadTexts(j.jobId)}>
          Download texts (.txt)
        </button>`;
  }

  async #addBudget(j: JobView) {
    await this.session?.mesh?.addBudget(j.jobId, topUp(j));
  }

  async #cancel(jobId: string) {
    try {
      await this.session?.mesh?.cancel(jobId);
    } catch (e) {
      this._error = describeError(e);
    }
  }

  async #downloadC(jobId: string) {
    const mesh = this.session?.mesh;
    const spec = mesh?.request(jobId);
    const done = await mesh?.result(jobId);
    if (spec?.kind !== 'matmul' || done?.answer.kind !== 'matmul') return;
    save(this, `C-${jobId}.npy`, writeNpy(done.answer.c, [spec.spec.m, spec.spec.n]));
  }

  async #downloadLogits(jobId: string) {
    const mesh = this.session?.mesh;
    const spec = mesh?.request(jobId);
    const done = await mesh?.result(jobId);
    if (spec?.kind !== 'inference' || done?.answer.kind !== 'inference') return;
    const n = spec.spec.sequences.length;
    save(
      this,
      `logits-${jobId}.npy`,
      writeNpy(done.answer.logits, [n, done.answer.logits.length / n]),
    );
  }

  async #downloadTexts(jobId: string) {
    const texts = this._texts.get(jobId) ?? (await this.#decode(jobId));
    if (texts) save(this, `texts-${jobId}.txt`, new TextEncoder().encode(`${texts.join('\n')}\n`));
  }

  /** Prompt + continuation for each sequence of a finished generation job. */
  async #decode(jobId: string): Promise<string[] | undefined> {
    const mesh = this.session?.mesh;
    const spec = mesh?.request(jobId);
    const done = await mesh?.result(jobId)?.catch(() => undefined);
    if (spec?.kind !== 'inference' || done?.answer.kind !== 'inference' || !this.shipped) return;
    const tokens = done.answer.tokens;
    if (!tokens.length) return;
    const { vocab } = await this.shipped();
    const steps = spec.spec.steps;
    const word = (ids: ArrayLike<number>) => Array.from(ids, (t) => vocab[t] ?? '?').join('');
    const texts = spec.spec.sequences.map(
      (seq, i) => word(seq) + word(tokens.subarray(i * steps, (i + 1) * steps)),
    );
    this._texts = new Map(this._texts).set(jobId, texts);
    return texts;
  }
}

function stateText(state: JobView['state']): string {
  return state === 'done'
    ? 'done, every shard verified'
    : state === 'cancelled'
      ? 'cancelled'
      : 'running';
}

function etaText(ms: number | undefined): string {
  return ms === undefined
    ? 'time left: after the first verified shard'
    : `about ${formatDuration(ms)} left`;
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

/** Offers bytes as a download from inside the element's shadow root. */
function save(host: LitElement, name: string, bytes: Uint8Array) {
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
