import { html, nothing } from 'lit';
import type { VerificationReport } from '../jobs/job';
import { credits, PRICE_CEILING, PRICE_FLOOR } from '../jobs/price';
import type { Mesh } from '../mesh/mesh';
import type { JobView } from '../mesh/read-model';
import {
  boughtText,
  type Eta,
  formatDuration,
  type GeneratedText,
  jobEta,
  nextPace,
  type Pace,
  short,
} from './format';
import { isRowKind, type RowJobState, rowJobLines } from './row-progress';

// One job of `<tessel-jobs>` (jobs-view.ts), as a render helper rather than an element of its
// own: its `<li>` stays a direct child of `ul#my-jobs` in the list's shadow root, which the
// selector `#my-jobs > li` needs. The list keeps the state and runs the actions.

/** What a job's download button fetches: everything, the texts verified so far, or the
 * verified part of the values (with unverified ones 0) or its mask. */
export type Download = 'all' | 'texts' | 'values' | 'mask';

/** The actions a job's buttons and price form run; each shows its outcome under the job. */
export interface JobActions {
  cancel(jobId: string): void;
  delete(jobId: string): void;
  addBudget(j: JobView): void;
  split(jobId: string): void;
  liftAll(jobId: string): void;
  setPrice(e: SubmitEvent, jobId: string): void;
  download(jobId: string, what: Download): void;
}

/** What the list holds for its jobs' items. */
export interface JobList {
  /** This tab's mesh; undefined off it (kept jobs only). */
  mesh: Mesh | undefined;
  /** Each generation job's decoded sequences. */
  texts: ReadonlyMap<string, GeneratedText[]>;
  /** The latest outcome of an action on a job. */
  notes: ReadonlyMap<string, { text: string; error: boolean }>;
  /** Each running job's pace, as the list has seen it: updated as the time left is drawn. */
  paces: Map<string, Pace>;
  /** Each data-set job's rows verified, pace and results file (row-jobs.ts). */
  rows?: ReadonlyMap<string, RowJobState>;
  actions: JobActions;
}

/** One job's `<li>`: state, progress bar, counts, time left, stall, spend, price form, what
 * its credits bought, its actions and downloads, the latest note, texts and report. */
export function jobItem(j: JobView, now: number, list: JobList) {
  const p = j.progress;
  const pct = (n: number) => `${(100 * n) / Math.max(1, p.shards)}%`;
  const texts = list.texts.get(j.jobId);
  const note = list.notes.get(j.jobId);
  const act = list.actions;
  const r = j.report;
  const name = jobName(j);
  const budget = Number.isFinite(j.budget)
    ? `${credits(j.budget).toFixed(3)} credits`
    : 'no ceiling';
  const running = j.state === 'running';
  const partial = (j.state === 'cancelled' || (running && j.stall)) && p.verified > 0;
  const rows = isRowKind(j.kind);
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
        rejected, ${r.reassignments} reassigned${running ? '; ' : ''}${running ? eta(j, now, list.paces) : nothing}.
      </p>
      ${rows ? rowJobLines(list.rows?.get(j.jobId), running, r) : nothing}
      ${running ? stall(j, list) : nothing}
      <p class="spend">
        Paid ${credits(j.spent).toFixed(3)} credits of a budget of ${budget}, at ${j.price} credits
        per GFLOP.
      </p>
      ${running ? priceForm(j, act) : nothing}
      <p class="bought">${bought(j, list.mesh)}</p>
      <div class="actions">
        ${
          running
            ? html`<button type="button" class="cancel" @click=${() => act.cancel(j.jobId)}>
              Cancel job ${j.jobId}
            </button>`
            : html`<button type="button" class="delete" aria-label="Delete ${name}" @click=${() => act.delete(j.jobId)}>
              Delete
            </button>`
        }
        ${
          running && (j.budgetSpent || j.stall?.reason === 'budget')
            ? html`<button type="button" class="add-budget" @click=${() => act.addBudget(j)}>
              Add ${credits(topUp(j)).toFixed(3)} credits to job ${j.jobId}
            </button>`
            : nothing
        }
        ${j.state === 'done' ? downloads(j, name, list) : partial ? partialDownloads(j, name, list) : nothing}
      </div>
      ${note ? html`<p class="job-note ${note.error ? 'error' : ''}" role="status">${note.text}</p>` : nothing}
      ${
        texts
          ? html`<ol class="generated">
            ${texts.map((t) => html`<li value=${t.sequence + 1}>${t.prompt}${t.continuation}</li>`)}
          </ol>`
          : nothing
      }
      ${rows ? nothing : reportDetails(r)}
    </li>`;
}

/** What "Add budget" adds: what the job has spent so far (doubling it), at least 1 credit. */
export function topUp(j: JobView): number {
  return Math.max(1e6, j.spent);
}

/** What the job's credits bought: shards verified, and GFLOP where known exactly. */
function bought(j: JobView, mesh: Mesh | undefined) {
  const js = mesh?.request(j.jobId);
  const gflop =
    js?.kind === 'matmul' && j.state === 'done'
      ? (2 * js.spec.m * js.spec.k * js.spec.n) / 1e9
      : undefined;
  const { verified, shards } = j.progress;
  return boughtText({ spent: j.spent, verified, shards, ...(gflop ? { gflop } : {}) });
}

function eta(j: JobView, now: number, paces: Map<string, Pace>) {
  const pace = nextPace(paces.get(j.jobId), j.progress, now);
  paces.set(j.jobId, pace);
  const eta = jobEta(j.progress, pace, now, j.stall !== undefined);
  return html`<span class="eta" data-eta=${eta.kind}>${etaText(eta)}</span>`;
}

/** Why a running job cannot progress, and the action that helps, as a button. */
function stall(j: JobView, list: JobList) {
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
  const quarantined = list.mesh?.snapshot().peers.filter((p) => p.quarantined) ?? [];
  return html`<p class="stall" role="status" data-reason=${s.reason} data-action=${s.action ?? ''}>
      <strong>Waiting:</strong> ${s.message}
      ${
        s.action === 'split'
          ? html`<button type="button" class="split" @click=${() => list.actions.split(j.jobId)}>
              Use smaller shards for job ${j.jobId}
            </button>`
          : s.action === 'lift'
            ? html`<button
                  type="button"
                  class="lift"
                  ?disabled=${quarantined.length === 0}
                  @click=${() => list.actions.liftAll(j.jobId)}
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

function priceForm(j: JobView, act: JobActions) {
  return html`<form class="set-price" novalidate @submit=${(e: SubmitEvent) => act.setPrice(e, j.jobId)}>
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

function downloads(j: JobView, name: string, list: JobList) {
  const button = (label: string) =>
    html`<button type="button" class="download" aria-label="${label} of ${name}" @click=${() => list.actions.download(j.jobId, 'all')}>
        ${label}
      </button>`;
  if (j.kind === 'matmul') return button('Download C (.npy)');
  if (j.kind === 'embed') return button('Download embeddings (.npy)');
  if (j.kind === 'generate') return button('Download generations (.jsonl)');
  if (j.kind === 'score') return button('Download scores (.jsonl)');
  // A kept job's request is read back with its answer: until then its mode may be unknown.
  const js = list.mesh?.request(j.jobId);
  const mode = js?.kind === 'inference' ? js.spec.mode : list.texts.has(j.jobId) ? 'tokens' : '';
  return button(
    mode === 'logits'
      ? 'Download logits (.npy)'
      : mode === 'tokens'
        ? 'Download texts (.jsonl)'
        : 'Download the results',
  );
}

/** What a cancelled or stalled job verified so far: the values with a mask, or the texts. */
function partialDownloads(j: JobView, name: string, list: JobList) {
  const button = (cls: string, label: string, what: Download) =>
    html`<button type="button" class="download partial ${cls}" aria-label="${label} of ${name}" @click=${() => list.actions.download(j.jobId, what)}>
        ${label}
      </button>`;
  const js = list.mesh?.request(j.jobId);
  if (j.kind === 'embed') return nothing; // an .npy needs every row
  if (j.kind === 'generate' || j.kind === 'score') {
    return button('', 'Download the rows verified so far (.jsonl)', 'texts');
  }
  if (j.kind === 'inference' && (js?.kind !== 'inference' || js.spec.mode === 'tokens')) {
    return button('', 'Download the texts verified so far (.jsonl)', 'texts');
  }
  const what = j.kind === 'matmul' ? 'C' : 'logits';
  return html`${button('', `Download the verified part of ${what} (.npy)`, 'values')}
      ${button('mask', `Download the mask of verified ${what} (.npy)`, 'mask')}`;
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
