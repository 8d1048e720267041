/**
 * What a check of the books found wrong. Each names one way a log, proof, checkpoint or entry can
 * be bad, so a page can say which, and a peer's misbehaviour can be logged with its id.
 */
export type LedgerErrorCode =
  | 'bad-proof' // an inclusion proof of the wrong length, or that does not lead to the root
  | 'inconsistent' // a consistency proof fails: the log was rewritten, reordered or truncated
  | 'bad-checkpoint' // a checkpoint that does not parse
  | 'bad-signature' // a note or entry signed by the wrong key, or not at all
  | 'tampered' // an entry whose bytes are not the ones the log committed to
  | 'reordered' // an entry the log committed to, served at another index
  | 'dropped' // an entry the log committed to, missing from what it serves
  | 'forged' // an entry that does not decode or is not what it claims to be
  | 'equivocation' // two checkpoints of one log at one size with different roots
  | 'unknown' // a request for something the log does not have
  | 'not-votable'; // a proposal for a parameter outside the whitelist, or out of its bounds

export class LedgerError extends Error {
  override readonly name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
