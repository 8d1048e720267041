import { css, html, LitElement, nothing } from 'lit';
import { BUDGET_MAX, BUDGET_MIN, DEFAULT_BUDGET } from '../jobs/budget';
import type { StoppedBy } from '../mesh/read-model';
import type { ShardOutcome } from '../mesh/shard-contributor';
import './chart';
import { loadMeshConfig, parseEngine, parseMeshConfig } from './config';
import { short } from './format';
import { type AdapterView, type SessionStatus, TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { base } from './styles';

/** Seconds kept on the charts. */
const WINDOW_S = 15 * 60;

/**
 * `<tessel-contributor>`: the volunteer's view and controls. The Contribute switch (off until the
 * volunteer turns it on; remembered for the origin), a badge while contributing, the live GPU
 * budget, pause-when-hidden, the adapter lent and its measured speed, shards verified and
 * rejected, receipts earned, the owners that stopped giving this tab work and why
 * (`#stopped-by li[data-owner][data-job-id]`), and charts of GFLOP/s and shards per minute.
 *
 * The page hands it its TabSession (`.session`); embedded on another site it makes its own from
 * its `relay` attribute, one relay multiaddr or several separated by spaces:
 * `<tessel-contributor relay="/dns4/…/p2p/… /dns4/…/p2p/…" budget="0.3">`.
 */
export class TesselContributor extends LitElement {
  static override properties = {
    relay: { type: String },
    budget: { type: Number },
    engine: { type: String },
    session: { attribute: false },
    _status: { state: true },
    _adapter: { state: true },
    _counts: { state: true },
    _gflops: { state: true },
    _perMinute: { state: true },
    _stoppedBy: { state: true },
  };
  static override styles = [
    base,
    css`
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem 1.5rem;
        align-items: center;
      }
      .switch {
        font-weight: 600;
      }
      .switch input {
        width: 1.25rem;
        height: 1.25rem;
      }
      .badge {
        display: inline-block;
        margin-left: 0.5rem;
        padding: 0.1rem 0.6rem;
        border-radius: 999px;
        background: #11663f;
        color: #fff;
        font-size: 0.85rem;
        vertical-align: middle;
      }
      .badge[data-phase='paused'] {
        background: #7a5a00;
      }
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(240px, 1fr));
        gap: 0.5rem 1rem;
      }
      #stopped-by ul {
        margin: 0.25rem 0;
        padding-left: 1.25rem;
        overflow-wrap: anywhere;
      }
      h4 {
        margin: 0.75rem 0 0.25rem;
        font-size: 0.9rem;
        font-weight: 600;
      }
    `,
  ];

  declare relay: string;
  /** `auto` (default: measured), `webgpu` or `cpu`. */
  declare engine: string | undefined;
  declare budget: number | undefined;
  declare session: TabSession | undefined;
  declare _status: SessionStatus | undefined;
  declare _adapter: AdapterView | undefined;
  declare _counts: {
    verified: number;
    rejected: number;
    abandoned: number;
    receipts: number;
    submits: number;
    cpuCalls: number;
  };
  declare _gflops: [number, number][];
  declare _perMinute: [number, number][];
  /** Owners that stopped giving this tab work, and why; newest first. */
  declare _stoppedBy: StoppedBy[];
  /** Whether this element made its session (embedded) and so must dispose of it. */
  #ownsSession = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #verdicts: { at: number; accepted: boolean }[] = [];

  constructor() {
    super();
    this.relay = '';
    this.budget = undefined;
    this.session = undefined;
    this._counts = { verified: 0, rejected: 0, abandoned: 0, receipts: 0, submits: 0, cpuCalls: 0 };
    this._gflops = [];
    this._perMinute = [];
    this._stoppedBy = [];
    new SessionWatcher(this, {
      session: (session, signal) => this.#follow(session, signal),
      mesh: (mesh, signal) => {
        mesh?.addEventListener('outcome', (e) => this.#onOutcome(e.detail), { signal });
        mesh?.addEventListener(
          'abandoned',
          () => (this._counts = { ...this._counts, abandoned: this._counts.abandoned + 1 }),
          { signal },
        );
      },
    });
  }

  override connectedCallback() {
    if (!this.session) this.#makeSession();
    super.connectedCallback();
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearInterval(this.#timer);
    if (this.#ownsSession) {
      void this.session?.dispose();
      this.session = undefined;
      this.#ownsSession = false;
    }
  }

  /** Embedded: a session of its own, pointed at the `relay` attribute's relays. */
  #makeSession() {
    const relays = (this.relay ?? '').split(/\s+/).filter(Boolean);
    this.session = new TabSession({
      config: async () =>
        relays.length > 0 ? parseMeshConfig({ relays }) : loadMeshConfig(new URL(location.href)),
      engine: () => parseEngine('engine', this.engine),
    });
    this.#ownsSession = true;
    if (this.budget !== undefined) this.session.setBudget(this.budget);
    void this.session.restore();
  }

  #follow(session: TabSession, signal: AbortSignal) {
    session.addEventListener('status', (e) => (this._status = e.detail), { signal });
    session.addEventListener('adapter', (e) => (this._adapter = e.detail), { signal });
    this._status = session.status();
    void session.adapter().then((a) => {
      if (!signal.aborted) this._adapter = a;
    });
    clearInterval(this.#timer);
    const timer = setInterval(() => void this.#poll(), 2_000);
    this.#timer = timer;
    signal.addEventListener('abort', () => clearInterval(timer));
    void this.#poll();
  }

  #onOutcome(o: ShardOutcome) {
    const now = Date.now();
    this.#verdicts.push({ at: now, accepted: o.accepted });
    this._counts = {
      ...this._counts,
      verified: this._counts.verified + (o.accepted ? 1 : 0),
      // A copy that lost a race to another copy is no rejection (nothing held against us).
      rejected: this._counts.rejected + (o.accepted || o.stale ? 0 : 1),
    };
    // Speed of verified work only: the owner's count of the shard's FLOPs, this tab's time.
    if (o.accepted && o.receipt && o.computeMs > 0) {
      const point: [number, number] = [now / 1000, o.receipt.flops / (o.computeMs * 1e6)];
      this._gflops = [...this._gflops, point].filter((p) => p[0] > now / 1000 - WINDOW_S);
    }
  }

  async #poll() {
    const session = this.session;
    if (!session) return;
    const stopped = session.mesh?.snapshot().contribution.stoppedBy ?? [];
    if (!sameStops(stopped, this._stoppedBy)) this._stoppedBy = stopped;
    const now = Date.now();
    this.#verdicts = this.#verdicts.filter((v) => v.at > now - WINDOW_S * 1000);
    if (this._status?.phase === 'contributing' || this._perMinute.length) {
      const lastMinute = this.#verdicts.filter((v) => v.at > now - 60_000).length;
      this._perMinute = [...this._perMinute, [now / 1000, lastMinute] as [number, number]].filter(
        (p) => p[0] > now / 1000 - WINDOW_S,
      );
    }
    try {
      const [info, receipts] = await Promise.all([
        session.compute.info(),
        session.receiptsEarned().catch(() => this._counts.receipts),
      ]);
      this._counts = {
        ...this._counts,
        receipts,
        submits: info.gpuSubmits,
        cpuCalls: info.cpuCalls,
      };
    } catch {
      // No adapter: the adapter card says why.
    }
  }

  #toggle(e: Event) {
    const on = (e.target as HTMLInputElement).checked;
    void this.session?.setContributing(on);
  }

  #budget(e: Event) {
    const pct = Number((e.target as HTMLInputElement).value);
    this.session?.setBudget(pct / 100);
  }

  override render() {
    const s = this._status;
    const on = s?.contributing ?? false;
    const budget = Math.round((s?.budget ?? DEFAULT_BUDGET) * 100);
    return html`<section aria-labelledby="contrib-title">
      <h2 id="contrib-title">
        Contribute your GPU
        ${
          on && s?.phase !== 'off'
            ? html`<span class="badge" data-phase=${s?.phase ?? ''}>● Contributing</span>`
            : nothing
        }
      </h2>
      <p class="muted">
        Nothing runs on your GPU and this tab joins no mesh until you switch this on. Switching it
        off stops at once.
      </p>
      <div class="controls">
        <label class="inline switch">
          <input
            type="checkbox"
            role="switch"
            id="contribute"
            .checked=${on}
            aria-checked=${on ? 'true' : 'false'}
            @change=${this.#toggle}
          />
          Contribute my GPU
        </label>
        <label
          >GPU budget: <span aria-hidden="true">${budget}%</span>
          <input
            type="range"
            id="budget"
            min=${Math.round(BUDGET_MIN * 100)}
            max=${Math.round(BUDGET_MAX * 100)}
            step="5"
            .value=${String(budget)}
            aria-valuetext="${budget}% of the time"
            @input=${this.#budget}
        /></label>
        <label class="inline"
          ><input
            type="checkbox"
            id="pause-hidden"
            .checked=${s?.pauseWhenHidden ?? true}
            @change=${(e: Event) =>
              this.session?.setPauseWhenHidden((e.target as HTMLInputElement).checked)}
          />
          Pause while this tab is hidden</label
        >
      </div>
      <p id="contributor-status" role="status" data-phase=${s?.phase ?? 'off'}>
        ${statusText(s)}
      </p>
      <h3>What you lend</h3>
      ${this.#adapterCard()}
      <h3>Your contribution</h3>
      <dl id="contribution">
        <dt>Shards verified</dt>
        <dd id="shards-verified">${this._counts.verified}</dd>
        <dt>Shards rejected</dt>
        <dd id="shards-rejected">${this._counts.rejected}</dd>
        <dt title="Ran past their lease (a hung GPU): the shard went back to its owner and the GPU was restarted">Shards given back</dt>
        <dd id="shards-abandoned">${this._counts.abandoned}</dd>
        <dt>Receipts earned</dt>
        <dd id="receipts-earned">${this._counts.receipts}</dd>
      </dl>
      ${this.#stoppedBy()}
      <div class="charts">
        <div>
        <h4>GFLOP/s of verified shards</h4>
        <tessel-chart
          label="GFLOP/s of verified shards"
          unit="GFLOP/s"
          .points=${this._gflops}
        ></tessel-chart>
        </div>
        <div>
        <h4>Shards answered per minute</h4>
        <tessel-chart
          label="Shards answered per minute"
          unit="shards/min"
          .points=${this._perMinute}
        ></tessel-chart>
        </div>
      </div>
    </section>`;
  }

  /** Owners that stopped using this tab, with their reason: a volunteer is told, not dropped. */
  #stoppedBy() {
    const stops = this._stoppedBy;
    return html`<div id="stopped-by" role="status" data-count=${stops.length}>
      ${
        stops.length
          ? html`<h4>Owners that stopped giving you work</h4>
            <ul>
              ${stops.map(
                (s) => html`<li data-owner=${s.owner} data-job-id=${s.jobId}>
                  <code title=${s.owner}>${short(s.owner)}</code> stopped job
                  <code title=${s.jobId}>${short(s.jobId)}</code> at
                  ${new Date(s.at).toLocaleTimeString()}: ${s.reason}
                </li>`,
              )}
            </ul>`
          : nothing
      }
    </div>`;
  }

  #adapterCard() {
    const a = this._adapter;
    if (!a)
      return html`<dl id="adapter" data-state="loading"><dt>Adapter</dt><dd>Looking…</dd></dl>`;
    if (!a.available) {
      return html`<div id="adapter" data-state="error">
        <p class="error">${a.reason}</p>
        <p>${a.advice}</p>
      </div>`;
    }
    const { submits, cpuCalls } = this._counts;
    return html`<dl id="adapter" data-state="ready" data-engine=${a.engine}>
      <dt>Engine</dt>
      <dd id="engine">
        ${a.engineName}${
          a.chosen || a.noWebGpu
            ? ''
            : a.engine === 'cpu'
              ? ' (your WebGPU adapter is your CPU too, slower)'
              : ' (if it beats your CPU: measured when you switch on)'
        }
      </dd>
      <dt>WebGPU adapter</dt>
      <dd>${a.noWebGpu ?? a.name}</dd>
      <dt>Kind</dt>
      <dd>
        ${
          a.noWebGpu
            ? 'no WebGPU: your CPU computes, through WebAssembly'
            : a.software
              ? 'software adapter: it runs on your CPU, not a GPU'
              : 'hardware GPU'
        }
      </dd>
      <dt>Speed</dt>
      <dd id="adapter-speed">
        ${
          a.gflops
            ? `${a.gflops.toFixed(2)} GFLOP/s (matmul, measured here)`
            : 'measured when you switch Contribute on'
        }
      </dd>
      <dt>Largest buffer</dt>
      <dd>${(a.maxBindingBytes / 2 ** 20).toFixed(0)} MiB</dd>
      <dt>GPU work in this tab</dt>
      <dd id="gpu-work" data-submits=${submits}>
        ${submits === 0 ? 'none so far' : `${submits} command buffers submitted`}
      </dd>
      <dt>CPU engine work in this tab</dt>
      <dd id="cpu-work" data-calls=${cpuCalls}>
        ${cpuCalls === 0 ? 'none so far' : `${cpuCalls} calls`}
      </dd>
    </dl>`;
  }
}

/** Whether two lists of stops say the same (so a poll redraws only on a change). */
function sameStops(a: readonly StoppedBy[], b: readonly StoppedBy[]): boolean {
  return (
    a.length === b.length &&
    a.every((s, i) => s.owner === b[i]!.owner && s.jobId === b[i]!.jobId && s.at === b[i]!.at)
  );
}

function statusText(s: SessionStatus | undefined): string {
  if (!s) return 'Off.';
  switch (s.phase) {
    case 'off':
      return s.mesh === 'joined'
        ? 'Not contributing. This tab stays on the mesh only to run your own jobs.'
        : 'Off. Your GPU is idle and this tab is not connected to anyone.';
    case 'starting':
      return 'Starting: measuring your adapter and joining the mesh…';
    case 'contributing':
      return `Contributing at up to ${Math.round(s.budget * 100)}% of the time.`;
    case 'paused':
      return `Paused (${s.message ?? 'waiting'}); work resumes by itself.`;
    case 'error':
      return `Could not start: ${s.message ?? 'unknown error'}`;
  }
}

customElements.get('tessel-contributor') ??
  customElements.define('tessel-contributor', TesselContributor);
