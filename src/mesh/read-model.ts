import type { TypedEventTarget } from 'main-event';
import type { JobKind } from '../jobs/codec';
import type { JobProgress, VerificationReport } from '../jobs/job';
import type { Reputation } from '../jobs/reputation';
import type { AnnouncementMsg } from './codec';
import { type MeshNode, relayOf, webRtcAddresses } from './node';
import type { AbandonedShard, ShardOutcome } from './shard-contributor';

/**
 * What views see of a Mesh: a snapshot (`mesh.snapshot()`) plus typed events (`MeshEvents`),
 * so a view never reaches into the node, the owner service or a job. Plain data: every field is
 * a copy, safe to keep.
 */

/** A peer this tab is connected to. */
export interface PeerView {
  id: string;
  /** Over a direct WebRTC connection (shards flow only over these). */
  direct: boolean;
  /** This peer is one of the configured relays. */
  relay: boolean;
  /** What it said of itself in its latest work request to this tab (self-reported). */
  adapter?: string;
  gflops?: number;
  /** As this tab's owner side judged it (src/jobs/reputation.ts). */
  score: number;
  accepted: number;
  rejected: number;
  /** Leases it let lapse: they cost standing, never quarantine on their own. */
  missedDeadlines: number;
  quarantined: boolean;
  /** Why this tab quarantined it (the evidence), when it did. */
  reason?: string;
}

/** One of this tab's jobs as their owner. */
export interface JobView {
  jobId: string;
  kind: JobKind;
  state: 'running' | 'done' | 'cancelled';
  /** Resumed from IndexedDB after a reload. */
  resumed: boolean;
  createdAt: number; // ms since the epoch
  /** What was asked, in words ("C = A·B, 512×256 by 256×512"). */
  summary: string;
  progress: JobProgress;
  report: VerificationReport;
  /** What the job pays: credits per GFLOP, and its ceiling in µcredits (Infinity: none). */
  price: number;
  budget: number;
  /** µcredits its receipts have paid so far. */
  spent: number;
  /** Its budget is spent: it leases nothing until its owner adds to it. */
  budgetSpent: boolean;
  /** The owner's balance cannot pay for another shard: it leases nothing until the owner earns. */
  balanceLow: boolean;
  /** When it finished or was cancelled (ms since the epoch). */
  finishedAt?: number;
  /** Why a running job cannot progress now, and what its owner can do about it. */
  stall?: JobStall;
  /** A finished or cancelled job kept from an earlier session (not running in this one). */
  history: boolean;
}

/** Why a running job leases nothing now. */
export interface JobStall {
  reason: 'no-contributors' | 'too-big' | 'quarantined' | 'budget' | 'balance';
  /** What is wrong, in words, for the researcher. */
  message: string;
  /** What helps: smaller shards, lift a quarantine, add credits, or wait for contributors. */
  action?: 'split' | 'lift' | 'add-credits' | 'wait';
}

/** An owner that stopped giving this tab work, and why (as the owner said). */
export interface StoppedBy {
  owner: string;
  jobId: string;
  reason: string;
  at: number; // ms since the epoch
}

export interface RelayView {
  addr: string;
  connected: boolean;
  /** This tab holds a reservation on it: others reach the tab through it. */
  reserved: boolean;
}

export interface ContributionView {
  contributing: boolean;
  /** Verdicts this session: results accepted and rejected by their owners. */
  verified: number;
  rejected: number;
  /** Owners that stopped giving this tab work, and why; newest first. */
  stoppedBy: StoppedBy[];
}

export interface MeshSnapshot {
  peerId: string;
  /** A relayed WebRTC address others dial. */
  address: string;
  /** The configured relays, in the config's order. */
  relays: RelayView[];
  peers: PeerView[];
  /** Jobs announced on the mesh (this tab's own included). */
  announced: AnnouncementMsg[];
  jobs: JobView[];
  contribution: ContributionView;
}

export interface MeshEvents {
  /** Connections opened or closed, or a peer's record changed. */
  peers: CustomEvent<PeerView[]>;
  /** An announcement arrived or was withdrawn. */
  announced: CustomEvent<AnnouncementMsg[]>;
  /** One of this tab's jobs moved (a shard settled, it finished, it was cancelled). */
  job: CustomEvent<JobView>;
  /** A finished or cancelled job was deleted by its owner (its id). */
  deleted: CustomEvent<string>;
  /** An owner stopped giving this tab work, and said why. */
  stopped: CustomEvent<StoppedBy>;
  /** An owner answered one of this tab's results. */
  outcome: CustomEvent<ShardOutcome>;
  /** This tab gave a shard back: its compute outlived the lease (the Worker was recycled). */
  abandoned: CustomEvent<AbandonedShard>;
  contributing: CustomEvent<boolean>;
}

/** The configured relays as a view shows them, in the config's order. */
export function relayViews(node: MeshNode, relays: readonly string[]): RelayView[] {
  const reserved = new Set(webRtcAddresses(node).map(relayOf));
  const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()));
  return relays.map((addr) => {
    const id = relayOf(addr);
    return { addr, connected: connected.has(id), reserved: reserved.has(id) };
  });
}

/** The peers `node` is connected to, with what they said of themselves in their latest work
 * request (`said`) and how this tab's owner side judged them. */
export function peerViews(
  node: Pick<MeshNode, 'getConnections'>,
  relays: readonly string[],
  said: ReadonlyMap<string, { adapter: string; gflops: number }>,
  reputation: Pick<Reputation, 'get'>,
): PeerView[] {
  const relayIds = new Set(relays.map(relayOf));
  const byPeer = new Map<string, PeerView>();
  for (const c of node.getConnections()) {
    const id = c.remotePeer.toString();
    const direct = c.remoteAddr.toString().includes('/webrtc') && c.limits == null;
    const known = byPeer.get(id);
    if (known) {
      known.direct ||= direct;
      continue;
    }
    const s = said.get(id);
    const r = reputation.get(id);
    byPeer.set(id, {
      id,
      direct,
      relay: relayIds.has(id),
      ...(s ? { adapter: s.adapter, gflops: s.gflops } : {}),
      score: r.score,
      accepted: r.accepted,
      rejected: r.rejected,
      missedDeadlines: r.missedDeadlines,
      quarantined: r.quarantined,
      ...(r.reason ? { reason: r.reason } : {}),
    });
  }
  return [...byPeer.values()];
}

/** The relayed WebRTC addresses others dial `node` at now, one per relay holding a reservation
 * (`fallback`, the ones it started with, while it has none). */
export function dialAddresses(node: MeshNode, fallback: readonly string[]): string[] {
  const live = webRtcAddresses(node);
  const byRelay = new Map<string, string>();
  for (const a of live.length > 0 ? live : fallback) {
    if (!byRelay.has(relayOf(a))) byRelay.set(relayOf(a), a);
  }
  return [...byRelay.values()];
}

/** Re-dispatches `from`'s events of `types` as `to`'s own, with the same detail (a facade's
 * events are its parts'). */
export function forward<E extends { [K in keyof E]: CustomEvent }>(
  from: TypedEventTarget<E>,
  to: TypedEventTarget<MeshEvents>,
  types: (keyof E & keyof MeshEvents)[],
): void {
  for (const type of types) {
    from.addEventListener(type, (e) => to.safeDispatchEvent(type, { detail: e.detail }));
  }
}
