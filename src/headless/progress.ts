import { credits } from '../jobs/price';
import type { AnnouncementMsg } from '../mesh/codec';
import type { GoneJobs } from '../mesh/job-board';
import type { Mesh } from '../mesh/mesh';
import type { AbandonedShard, ShardOutcome } from '../mesh/shard-contributor';

/**
 * µcredits in the unit the page shows, credits (src/jobs/price.ts credits()), to the µcredit:
 * "0.000420 credits".
 */
export function formatCredits(micro: number): string {
  return `${credits(micro).toFixed(6)} credits`;
}

/** Shards settled this run, by how: what `tessel contribute` sums up when it stops. */
export interface ShardCounts {
  verified: number;
  rejected: number;
  /** Copies that lost a race to another copy (no fault, no pay). */
  superseded: number;
  /** Shards given back because they outlived their lease. */
  abandoned: number;
}

/**
 * The headless contributor's progress lines: jobs heard of and gone, each shard's verdict with
 * its credit, leases given back; and the counts of each. Jobs this peer owns are not announced
 * to it.
 */
export class ProgressLog {
  readonly counts: ShardCounts = { verified: 0, rejected: 0, superseded: 0, abandoned: 0 };
  /** Jobs announced to this peer and not yet gone. */
  readonly #heard = new Set<string>();
  readonly #peerId: string;
  readonly #line: (line: string) => void;

  constructor(peerId: string, line: (line: string) => void) {
    this.#peerId = peerId;
    this.#line = line;
  }

  /** Writes the lines of `mesh`'s events from now on. */
  follow(mesh: Mesh): void {
    mesh.addEventListener('announced', (e) => this.announced(e.detail));
    mesh.board.addEventListener('gone', (e) => this.gone(e.detail));
    mesh.addEventListener('outcome', (e) => this.outcome(e.detail));
    mesh.addEventListener('abandoned', (e) => this.abandoned(e.detail));
  }

  announced(jobs: Pick<AnnouncementMsg, 'jobId' | 'owner' | 'kind'>[]): void {
    for (const a of jobs) {
      if (this.#heard.has(a.jobId) || a.owner === this.#peerId) continue;
      this.#heard.add(a.jobId);
      this.#line(`job ${a.jobId} (${a.kind}) announced by ${a.owner}`);
    }
  }

  gone({ jobs, why }: GoneJobs): void {
    for (const a of jobs) {
      if (!this.#heard.delete(a.jobId)) continue;
      this.#line(
        why === 'ended'
          ? `job ${a.jobId} ended: its owner announced it finished or cancelled`
          : `job ${a.jobId} went silent: its owner stopped announcing it (gone, or reloading)`,
      );
    }
  }

  outcome(r: ShardOutcome): void {
    this.counts[r.accepted ? 'verified' : r.stale ? 'superseded' : 'rejected']++;
    const credit = r.receipt ? `, +${formatCredits(r.receipt.credit)}` : '';
    const verdict = r.accepted
      ? 'verified'
      : r.stale
        ? `superseded (${r.reason}: another copy was settled first)`
        : `rejected (${r.reason})`;
    this.#line(
      `shard ${r.shardId} of job ${r.jobId}: ${verdict} after ${r.computeMs.toFixed(0)} ms${credit}`,
    );
  }

  abandoned(a: AbandonedShard): void {
    this.counts.abandoned++;
    this.#line(`gave back shard ${a.shardId} of job ${a.jobId}: it outlived its lease`);
  }
}
