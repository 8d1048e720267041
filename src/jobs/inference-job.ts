/**
 * Batched inference as shardable work (pure): a job is a model, named by the content digest of
 * its weights and config, plus many token sequences of one length; a shard is a contiguous block
 * of sequences; its result is the last-position logits of each (block × vocab, f32).
 * Verification is by redundancy, canaries and spot-checks (src/jobs/redundancy.ts).
 */

export interface InferenceJobSpec {
  modelDigest: string; // hex SHA-256 of the weights file and its config
  vocab: number;
  seq: number; // tokens per sequence
  sequences: number; // how many
  tokens: Uint32Array; // sequences × seq
}

export interface SequenceBlock {
  start: number; // first sequence
  count: number;
}

/** Blocks of at most `perShard` sequences, in order. */
export function planSequenceBlocks(sequences: number, perShard: number): SequenceBlock[] {
  if (!Number.isSafeInteger(sequences) || sequences < 1) throw new RangeError('no sequences');
  if (!Number.isSafeInteger(perShard) || perShard < 1) throw new RangeError('perShard must be ≥ 1');
  const blocks: SequenceBlock[] = [];
  for (let start = 0; start < sequences; start += perShard) {
    blocks.push({ start, count: Math.min(perShard, sequences - start) });
  }
  return blocks;
}

/** The tokens a contributor needs for a block. */
export function blockTokens(job: InferenceJobSpec, b: SequenceBlock): Uint32Array {
  return job.tokens.slice(b.start * job.seq, (b.start + b.count) * job.seq);
}

/** Collects verified blocks of logits into the job's answer (sequences × vocab). */
export class InferenceAssembly {
  readonly logits: Float32Array;
  readonly #filled: Uint8Array;
  #done = 0;

  constructor(
    readonly job: InferenceJobSpec,
    readonly blocks: SequenceBlock[],
  ) {
    this.logits = new Float32Array(job.sequences * job.vocab);
    this.#filled = new Uint8Array(blocks.length);
  }

  get done(): boolean {
    return this.#done === this.blocks.length;
  }

  /** Writes a verified block once; a second copy of the same block is ignored. */
  place(shardId: number, logits: Float32Array): boolean {
    const b = this.blocks[shardId];
    if (!b) throw new RangeError(`no shard ${shardId}`);
    if (logits.length !== b.count * this.job.vocab) {
      throw new RangeError(
        `shard ${shardId}: ${logits.length} logits, expected ${b.count * this.job.vocab}`,
      );
    }
    if (this.#filled[shardId]) return false;
    this.logits.set(logits, b.start * this.job.vocab);
    this.#filled[shardId] = 1;
    this.#done++;
    return true;
  }
}
