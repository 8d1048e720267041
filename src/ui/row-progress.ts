import { html, nothing } from 'lit';
import type { JobKind } from '../jobs/codec';
import type { InferenceSpec } from '../jobs/inference-spec';
import type { VerificationReport } from '../jobs/job';
import type { RowKind } from '../jobs/rows';
import { logitErrorBound } from '../model/hf/cost';
import { formatBytes, formatDuration } from './format';

// A data-set job (embed, generate, score) in the job list: rows verified, their pace and the
// time left, and its verification report (rows checked, what the checks cost, disagreements,
// contributors caught). Pure counting here, unit-tested; the list (jobs-view.ts) feeds it.

/** Whether a job kind is one of the data-set kinds. */
export function isRowKind(kind: JobKind): kind is RowKind {
  return kind === 'embed' || kind === 'generate' || kind === 'score';
}

/** A job's rows as the list has seen them: verified of total, first and latest sightings. */
export interface RowPace {
  total: number;
  /** When rows were first seen verifying (ms since the epoch) and how many were verified then. */
  since: number;
  sinceRows: number;
  /** The latest count and when it was taken. */
  at: number;
  rows: number;
}

/** The pace moved on to a new count at `now`. A count that did not grow keeps the pace as it
 * was, so time spent waiting after the last row does not lower the rate already measured. */
export function nextRowPace(
  pace: RowPace | undefined,
  total: number,
  rows: number,
  now: number,
): RowPace {
  if (!pace || rows < pace.rows) return { total, since: now, sinceRows: rows, at: now, rows };
  if (rows === pace.rows) return { ...pace, total };
  return { ...pace, total, at: now, rows };
}

/** Rows verified per second since the pace began; undefined until two counts differ. */
export function rowRate(p: RowPace): number | undefined {
  const ms = p.at - p.since;
  return ms > 0 && p.rows > p.sinceRows ? ((p.rows - p.sinceRows) * 1_000) / ms : undefined;
}

/** Time left (ms) at the measured rate; 0 when done, undefined while there is no rate. */
export function rowEtaMs(p: RowPace): number | undefined {
  if (p.rows >= p.total) return 0;
  const rate = rowRate(p);
  return rate ? ((p.total - p.rows) / rate) * 1_000 : undefined;
}

/**
 * The bound two honest embeddings of a row agree within, per value, for a row whose largest
 * |value| is `scale` (the owner's check: twice the model's error bound, src/jobs/inference-check.ts).
 */
export function embedBound(model: InferenceSpec['model'], scale = 1): number {
  return 2 * logitErrorBound(model, scale);
}

/** The report's lines for a data-set job: rows checked, the checks' share of the work, and
 * what they found. */
export function rowReportRows(r: VerificationReport): [string, string][] {
  const share = r.computeFlops > 0 ? `${((100 * r.checkFlops) / r.computeFlops).toFixed(2)}%` : '—';
  return [
    ['Shards verified', `${r.accepted} of ${r.shards}`],
    ['Rows the owner checked', r.rowsChecked.toLocaleString('en')],
    ['Cost of the checks (FLOPs ÷ contributors’ FLOPs)', share],
    ['Copies that disagreed', String(r.disagreements)],
    ['Checks failed', String(r.spotChecksFailed + r.canariesFailed)],
    ['Contributors caught', String(r.contributorsCaught)],
    ['Results rejected', String(r.rejected)],
    ['Reassigned', String(r.reassignments)],
  ];
}

/** A results file built for a job, offered as a link until the job is deleted. */
export interface BuiltResults {
  name: string;
  url: string; // an object URL of its Blob
  bytes: number;
  rows: number;
}

/** What a row job's lines show, as the list keeps it. */
export interface RowJobState {
  pace: RowPace;
  /** The embeddings' bound per value at scale 1 (embed jobs). */
  bound?: number;
  results?: BuiltResults;
}

/** Rows verified, rows/s and time left, and the report, under a data-set job in the list. */
export function rowJobLines(
  state: RowJobState | undefined,
  running: boolean,
  r: VerificationReport,
) {
  const p = state?.pace;
  const rate = p ? rowRate(p) : undefined;
  const eta = p ? rowEtaMs(p) : undefined;
  return html`<p
      class="rows"
      data-rows-verified=${p?.rows ?? ''}
      data-rows=${p?.total ?? ''}
    >
      ${
        p
          ? html`${p.rows.toLocaleString('en')} of ${p.total.toLocaleString('en')} rows verified${
              running
                ? html`, <span class="row-rate">${rate ? `${rate.toLocaleString('en', { maximumSignificantDigits: 3 })} rows/s` : 'rows/s: after the next verified shard'}</span>,
                    <span class="row-eta">${eta === undefined ? 'time left: unknown' : `about ${formatDuration(eta)} left`}</span>`
                : nothing
            }.`
          : running
            ? 'Rows verified: counting…'
            : nothing
      }
    </p>
    ${
      state?.results
        ? html`<p class="results">
            <a class="results-link" href=${state.results.url} download=${state.results.name}
              >Save ${state.results.name}</a
            >
            (${state.results.rows.toLocaleString('en')} rows, ${formatBytes(state.results.bytes)})
          </p>`
        : nothing
    }
    <details class="row-report">
      <summary>Verification report</summary>
      <dl class="report">
        ${rowReportRows(r).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
        ${
          state?.bound !== undefined
            ? html`<dt>Embeddings agree within</dt>
                <dd class="embed-bound" data-bound=${state.bound}>
                  ±${state.bound.toExponential(2)} per value, times the row's largest |value| when
                  over 1 (twice the model's float32 error bound)
                </dd>`
            : nothing
        }
      </dl>
    </details>`;
}
