import { css, html, LitElement, nothing } from 'lit';
import type { AnnouncementMsg } from '../mesh/codec';
import type { Mesh } from '../mesh/mesh';
import type { MeshSnapshot, PeerView } from '../mesh/read-model';
import { short } from './format';
import type { SessionStatus, TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { base } from './styles';

/**
 * `<tessel-mesh>`: where this tab stands in the mesh: its peer id, the relay, connected peers
 * (short id, adapter and speed as they reported them, reputation as this tab judged them; a
 * quarantined one with its reason and a Lift button,
 * `#peers tr[data-peer][data-quarantined] .reason, button.lift`), and
 * the jobs announced with their owner's progress (`#job-list li[data-job-id]`). Fed by the
 * mesh's `peers`, `announced` and `job` events.
 */
export class TesselMesh extends LitElement {
  static override properties = {
    session: { attribute: false },
    _snap: { state: true },
    _status: { state: true },
  };
  static override styles = [
    base,
    css`
      #peers td,
      #job-list li {
        overflow-wrap: anywhere;
      }
      #peers .lift {
        margin-left: 0.4rem;
        padding: 0.1rem 0.6rem;
      }
    `,
  ];
  declare session: TabSession | undefined;
  declare _snap: MeshSnapshot | undefined;
  declare _status: SessionStatus | undefined;
  constructor() {
    super();
    this.session = undefined;
    new SessionWatcher(this, {
      session: (session, signal) => {
        this._status = session.status();
        session.addEventListener('status', (e) => (this._status = e.detail), { signal });
      },
      mesh: (mesh, signal) => this.#watch(mesh, signal),
    });
  }

  #watch(mesh: Mesh | undefined, signal: AbortSignal) {
    this._snap = mesh?.snapshot();
    if (!mesh) return;
    const refresh = () => (this._snap = mesh.snapshot());
    for (const type of ['peers', 'announced', 'job', 'contributing'] as const) {
      mesh.addEventListener(type, refresh, { signal });
    }
  }

  override render() {
    const s = this._snap;
    const st = this._status;
    const state = s
      ? 'ready'
      : st?.mesh === 'joining'
        ? 'connecting'
        : st?.mesh === 'error'
          ? 'error'
          : 'off';
    const text = s
      ? `Online as ${short(s.peerId)} · ${s.peers.filter((p) => !p.relay).length} peer(s), ${s.peers.filter((p) => p.direct).length} direct`
      : state === 'connecting'
        ? 'Connecting…'
        : state === 'error'
          ? `Not connected: ${st?.message ?? 'unknown error'}`
          : 'Not connected: this tab joins the mesh when you switch Contribute on or submit a job.';
    return html`<section aria-labelledby="mesh-title">
      <h2 id="mesh-title">Mesh</h2>
      <p id="mesh-status" data-state=${state} role="status">${text}</p>
      ${s ? this.#details(s) : nothing}
    </section>`;
  }

  #details(s: MeshSnapshot) {
    const peers = s.peers.filter((p) => !p.relay);
    return html`<dl>
        <dt>Relays</dt>
        <dd id="relay-status" data-connected=${s.relays.some((r) => r.connected)}>
          ${relaySummary(s.relays)}
          <ul class="relays">
            ${s.relays.map(
              (r) => html`<li data-relay=${r.addr} data-connected=${r.connected}>
                <code title=${r.addr}>${short(r.addr.slice(r.addr.lastIndexOf('/p2p/') + 5))}</code>
                ${r.reserved ? 'reachable through it' : r.connected ? 'connected' : 'not connected'}
              </li>`,
            )}
          </ul>
        </dd>
      </dl>
      <h3>Peers</h3>
      ${
        peers.length
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="Connected peers">
            <table id="peers">
              <thead>
                <tr>
                  <th scope="col">Peer</th>
                  <th scope="col">Link</th>
                  <th scope="col">Adapter (reported)</th>
                  <th scope="col">GFLOP/s (reported)</th>
                  <th scope="col">Reputation</th>
                </tr>
              </thead>
              <tbody>
                ${peers.map(
                  (p) => html`<tr data-peer=${p.id} data-quarantined=${p.quarantined}>
                    <td><code title=${p.id}>${short(p.id)}</code></td>
                    <td>${p.direct ? 'direct' : 'relayed'}</td>
                    <td>${p.adapter ?? '—'}</td>
                    <td>${p.gflops ? p.gflops.toFixed(1) : '—'}</td>
                    <td>${this.#standing(p)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
          : html`<p class="muted">No other peers yet.</p>`
      }
      <h3>Jobs announced</h3>
      ${
        s.announced.length
          ? html`<ul id="job-list">
            ${s.announced.map((j) => announcedItem(j, s))}
          </ul>`
          : html`<p class="muted">None right now.</p>`
      }`;
  }

  /** How this tab judged a peer: its score and record, or why it quarantined it, and Lift. */
  #standing(p: PeerView) {
    const missed = p.missedDeadlines ? `, ${p.missedDeadlines} missed deadline(s)` : '';
    const record = `${p.accepted} verified, ${p.rejected} rejected${missed}`;
    if (!p.quarantined) return `${p.score.toFixed(1)} (${record})`;
    return html`<span class="error">quarantined</span>${p.reason ? html`: <span class="reason">${p.reason}</span>` : nothing}
      <span class="muted">(${record})</span>
      <button type="button" class="lift" aria-label="Lift the quarantine of peer ${short(p.id)}" @click=${() => this.#lift(p.id)}>
        Lift
      </button>`;
  }

  #lift(peer: string) {
    const mesh = this.session?.mesh;
    if (!mesh) return;
    mesh.lift(peer);
    this._snap = mesh.snapshot();
  }
}

/** An announced job and its owner's progress (this tab's own: as its own view counts it). */
function announcedItem(j: AnnouncementMsg, s: MeshSnapshot) {
  const mine = j.owner === s.peerId;
  const own = mine ? s.jobs.find((v) => v.jobId === j.jobId) : undefined;
  const progress = own
    ? `${own.progress.verified}/${own.progress.shards} shards verified`
    : `${j.shardCount - j.shardsLeft}/${j.shardCount} shards verified, as its owner announced${
        j.paused ? ' (paused: it leases nothing for now)' : ''
      }`;
  return html`<li data-job-id=${j.jobId} data-owner=${j.owner} data-paused=${j.paused === true}>
    ${j.kind} job <code>${j.jobId}</code>${mine ? ' (yours)' : html` of <code title=${j.owner}>${short(j.owner)}</code>`}:
    ${progress}
  </li>`;
}

customElements.get('tessel-mesh') ?? customElements.define('tessel-mesh', TesselMesh);

/** How this tab stands with its relays, in words. */
function relaySummary(relays: MeshSnapshot['relays']): string {
  const up = relays.filter((r) => r.connected).length;
  if (up === 0) return 'none connected (direct connections carry on)';
  return `${up} of ${relays.length} connected, reachable through ${relays.filter((r) => r.reserved).length}`;
}
