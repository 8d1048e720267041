import type { Output, Work } from '../jobs/codec';
import type { OwnerJob, Receipt, Revocation, Verdict } from '../jobs/job';
import type { Reputation } from '../jobs/reputation';
import type { Lease } from '../jobs/scheduler';
import type { VerdictMsg } from './codec';
import type { MeshNode } from './node';

/** What the owner's shard service uses of the node (a full MeshNode satisfies it): its
 * protocol handlers, and its id for the receipts it signs. */
export type ShardOwnerComponents = Pick<MeshNode, 'handle' | 'unhandle' | 'peerId'>;

/** How often contributors must heartbeat while computing (ms). */
export const HEARTBEAT_MS = 2_000;
/** A stream that sends nothing for this long is closed (ms). */
export const IDLE_TIMEOUT_MS = 300_000;
/** Shard streams one connection may hold open at once. */
export const MAX_STREAMS_PER_CONNECTION = 8;
/** Work requests sooner than told before a peer is cut off as a flood. */
export const MAX_EARLY_REQUESTS = 10;
/** Verdicts kept per peer for a contributor that is not connected. */
export const MAX_UNDELIVERED = 256;
/** How long a contributor that got no lease because nothing can pay for it waits (ms). */
export const UNPAID_RETRY_MS = 30_000;

/** How long a quarantined peer's stream waits for the work request it is answered on (ms): a
 * contributor asks as soon as its stream opens. */
export const TURN_AWAY_MS = 2_000;
/** The largest frame an owner reads: a result of the largest shard allowed (16 MiB), plus room
 * for its header. Leases (owner to contributor) may be larger: see MAX_FRAME_BYTES. */
export const MAX_RESULT_FRAME_BYTES = 16 * 2 ** 20 + 4096;

export interface ShardOwnerOptions {
  /** How often contributors must heartbeat while computing. */
  heartbeatMs?: number; // ms, default HEARTBEAT_MS
  /** Per-peer record; quarantined peers get no shards. */
  reputation?: Reputation;
  /**
   * Signs and keeps a receipt for an accepted result (src/ledger supplies it); returns the
   * encoded ReceiptBundle the contributor is sent. Without it, verdicts carry no receipt.
   */
  issueReceipt?: (r: Receipt) => Promise<Uint8Array>;
  /** Settles one verdict's money, synchronously as it is decided: an accepted one is paid from
   * what its lease reserved (never more); any other gives that back. Returns the µcredits the
   * receipt pays. Nothing is paid without it. */
  payFor?: (v: Verdict) => number;
  /** Whether the job may lease one more shard (its budget, its owner's balance); always
   * without it. */
  mayLease?: (job: OwnerJob) => boolean;
  /** Whether the job's budget and its owner's balance pay for a lease of `shardId` now (every
   * copy its shard still needs); the job then leases only such shards. All without it. */
  mayTake?: (job: OwnerJob, shardId: number) => boolean;
  /** Reserves what a lease just made pays if verified, in the same tick as the lease; false
   * when nothing can pay it (the lease is then given back). Always true without it. */
  reserve?: (job: OwnerJob, lease: Lease, work: Work) => boolean;
  /** A result for lease `leaseId` of `contributor` reached job `jobId`: what the lease reserved
   * stays until its verdict, even if the lease ends first (a copy waiting for its twin). */
  submitted?: (jobId: string, leaseId: string, contributor: string) => void;
  /** Voids a caught contributor's receipts for one job (an entry in this owner's log stating
   * why; src/ledger). Without it, nothing is voided. */
  revoke?: (r: Revocation) => Promise<void>;
  /** Verdicts kept for a contributor that is not connected when they are decided. */
  maxUndelivered?: number; // per peer, default MAX_UNDELIVERED
  /**
   * Makes a settlement durable before anyone is told (IndexedDB in the app): the shard's verified
   * output, if it became final, and every verdict with its receipt, in one write. A reload of this
   * tab then either forgets the shard and its verdicts together (the shard is leased again) or
   * keeps both (the shard is done and its contributors hear their verdicts when they are back).
   */
  persist?: (job: OwnerJob, s: DurableSettlement) => Promise<void>;
  /** Told when a verdict was written to its contributor (it may leave the outbox). */
  delivered?: (leaseId: string) => Promise<void>;
  /** A stream that sends nothing for this long is closed (contributors heartbeat while they
   * compute; one resting between shards for longer dials again). */
  idleTimeoutMs?: number; // ms, default IDLE_TIMEOUT_MS
  /** Largest frame a contributor may send: a result (outputs of the largest shards allowed,
   * 16 MiB) and its header. */
  maxFrameBytes?: number; // default MAX_RESULT_FRAME_BYTES
  /** Shard streams one connection may hold open at once. */
  maxStreamsPerConnection?: number; // default MAX_STREAMS_PER_CONNECTION
  /** Work requests sent sooner than the retry time this owner gave, before the peer is cut
   * off and marked: asking again and again is a flood, not a contributor. */
  maxEarlyRequests?: number; // default MAX_EARLY_REQUESTS
}

/** A settlement as it is kept: the verdicts, receipts signed, addressed to their contributors. */
export interface DurableSettlement {
  shard?: { shardId: number; output: Output };
  verdicts: { peer: string; msg: VerdictMsg }[];
  /** Shards whose kept output must go: a caught contributor had a part in it (it is redone). */
  reopened?: number[];
}

/** What the owner saw of one settled result (for the UI, reports and tests). */
export interface SettledEvent extends Omit<Verdict, 'flops'> {
  /** Multiaddr of the connection the result came over, and whether it was a limited (relayed) one. */
  remoteAddr: string;
  limited: boolean;
}

export interface ShardOwnerEvents {
  settled: CustomEvent<SettledEvent>;
  done: CustomEvent<{ jobId: string }>;
  misbehaved: CustomEvent<{ peer: string; error: Error }>;
  /** A contributor spoke an older version of the protocol and was told to stop. */
  refused: CustomEvent<{ peer: string; protocol: string }>;
}
