/** What a contributor asking for work on a job was answered, and when. */
export interface Ask {
  at: number; // ms since the epoch
  /** 'lease': it got one; otherwise why it got none (see LeaseOffer's reason). */
  answer: 'lease' | 'quarantined' | 'barred' | 'too-big' | 'unpaid' | 'all-leased' | 'finished';
}

/** How long an answer counts as a contributor's current state (contributors ask again every few
 * seconds while they wait). */
export const ASK_FRESH_MS = 30_000;

/** Peers remembered per job (and contributors described): peer ids are free to make. */
export const MAX_KNOWN = 512;

/**
 * Per job, what each contributor that asked lately was answered: the owner's account of a
 * stalled job's why (src/mesh/stall.ts). Bounded to MAX_KNOWN peers per job, newest last.
 */
export class AskLog {
  readonly #asks = new Map<string, Map<string, Ask>>();

  /** Notes that `peer` asked for work on `jobId` and was answered `answer`. */
  note(jobId: string, peer: string, answer: Ask['answer'], now = Date.now()): void {
    const asks = this.#asks.get(jobId) ?? new Map<string, Ask>();
    asks.delete(peer);
    asks.set(peer, { at: now, answer });
    if (asks.size > MAX_KNOWN) asks.delete(asks.keys().next().value as string);
    this.#asks.set(jobId, asks);
  }

  /** What contributors asking for work on `jobId` in the last ASK_FRESH_MS were answered. */
  fresh(jobId: string, now = Date.now()): Ask[] {
    return [...(this.#asks.get(jobId)?.values() ?? [])].filter((a) => now - a.at <= ASK_FRESH_MS);
  }

  /** Forgets a job (it was removed). */
  forget(jobId: string): void {
    this.#asks.delete(jobId);
  }
}
