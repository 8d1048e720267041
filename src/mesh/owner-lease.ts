import type { LeaseOffer, OwnerJob } from '../jobs/job';
import type { WorkRequestMsg } from './codec';
import type { Ask } from './owner-asks';
import { type ShardOwnerOptions, UNPAID_RETRY_MS } from './shard-owner-options';

/** A work request's answer, and what the owner notes of it for the job's stall report. */
export type Answer = LeaseOffer & { answer: Ask['answer'] };

/**
 * What one work request from `peer` on `job` (undefined: unknown or cancelled) is answered,
 * decided in one tick with the lease's reservation, so no other lease can count on that
 * credit. A quarantined peer is told the job is finished: it gets nothing more from this
 * owner. A job whose budget is spent leases nothing until its owner adds to it: ask later.
 * Shards nobody can pay for now are skipped, not leased and given back.
 */
export function answerWorkRequest(
  job: OwnerJob | undefined,
  peer: string,
  msg: WorkRequestMsg,
  o: Pick<ShardOwnerOptions, 'reputation' | 'mayLease' | 'mayTake' | 'reserve'>,
  bytesPerSec: number,
  now: number,
): { offer: Answer; quarantined: boolean } {
  let unpaid = false;
  const mayTake = o.mayTake;
  const take =
    mayTake && job
      ? (s: number) => {
          const ok = mayTake(job, s);
          unpaid ||= !ok;
          return ok;
        }
      : undefined;
  const quarantined = o.reputation?.isQuarantined(peer) ?? false;
  const budgetSpent = job !== undefined && !(o.mayLease?.(job) ?? true);
  let offer: LeaseOffer =
    !job || quarantined
      ? { kind: 'none', finished: true, retryAfterMs: 0 }
      : budgetSpent
        ? { kind: 'none', finished: false, retryAfterMs: UNPAID_RETRY_MS }
        : job.offer(
            {
              id: peer,
              gflops: msg.gflops,
              maxBufferBytes: msg.maxBufferBytes,
              adapter: msg.adapter,
              bytesPerSec,
            },
            now,
            take,
          );
  if (offer.kind === 'none' && !offer.finished && unpaid) offer.retryAfterMs = UNPAID_RETRY_MS;
  const answer: Ask['answer'] =
    offer.kind === 'lease'
      ? 'lease'
      : quarantined
        ? 'quarantined'
        : budgetSpent || unpaid
          ? 'unpaid'
          : offer.finished
            ? job?.done
              ? 'finished'
              : 'barred'
            : offer.reason === 'too-big'
              ? 'too-big'
              : 'all-leased';
  // The lease and its reservation in one tick: no other lease can count on that credit. The
  // ask is noted as answered with a lease (as it was offered one), as before the split.
  if (offer.kind === 'lease' && !(o.reserve?.(job!, offer.lease, offer.work) ?? true)) {
    job!.fail(offer.lease.leaseId, peer);
    offer = { kind: 'none', finished: false, retryAfterMs: UNPAID_RETRY_MS };
  }
  return { offer: { ...offer, answer }, quarantined };
}
