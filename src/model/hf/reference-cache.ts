// The key/value cache and the batch bookkeeping the causal references share (decoders and
// GPT-2): which slots each query may see, and the position ids Hugging Face's `generate` gives a
// left-padded batch.

import { HfReferenceError } from './reference-ops';

/**
 * Keys and values of every token a batch has seen, per layer, so a decode step computes only
 * the new tokens (Hugging Face's DynamicCache). Keys are stored after rotary embedding, as
 * Hugging Face stores them. One cache belongs to one batch of one model.
 */
export class KvCache {
  /** Per sequence, the attention mask (1 token, 0 padding) of every cached slot. */
  readonly mask: number[][];
  /** keys[layer][sequence][slot]: that slot's keys, kv heads × head size, head-major. */
  readonly keys: Float64Array[][][];
  /** values[layer][sequence][slot], laid out as keys. */
  readonly values: Float64Array[][][];

  /** An empty cache for `batch` sequences through `numLayers` layers. */
  constructor(
    readonly batch: number,
    readonly numLayers: number,
  ) {
    this.mask = Array.from({ length: batch }, () => []);
    this.keys = Array.from({ length: numLayers }, () => Array.from({ length: batch }, () => []));
    this.values = Array.from({ length: numLayers }, () => Array.from({ length: batch }, () => []));
  }

  /** Slots cached per sequence (padding included). */
  get length(): number {
    return this.mask[0]?.length ?? 0;
  }
}

/** Refuses a cache filled by a model of another key width (kv heads × head size). */
export function checkCacheWidth(cache: KvCache | undefined, width: number): void {
  const first = cache?.keys[0]?.[0]?.[0];
  if (first && first.length !== width) {
    throw new HfReferenceError(
      `the cache holds keys of ${first.length} values; this model's are ${width}`,
    );
  }
}

/** One forward call's batch, checked: its masks and position ids. */
export interface Step {
  batch: number;
  /** New tokens per sequence in this call. */
  steps: number;
  /** Slots already cached per sequence. */
  past: number;
  /** Per sequence, the mask of every slot: the cached ones, then this call's. */
  fullMask: number[][];
  /** Per sequence, the position id of each of this call's tokens. */
  positions: number[][];
}

/**
 * Checks a call's tokens, mask and cache, and computes position ids as Hugging Face's
 * `prepare_inputs_for_generation` (generation/utils.py) does for a batch with an attention
 * mask: `cumsum(mask) − 1`, with padded slots given position 1, over the whole sequence
 * (cached slots too), keeping this call's part. With no padding that is past, past+1, ….
 *
 * `positionIds`, when given, replaces them (this call's tokens only).
 *
 * `attentionMask` covers either this call's tokens (same shape as `tokens`) or, as Hugging Face
 * passes it, the cached slots and this call's (its cached part must match the cache's).
 */
export function prepareStep(
  tokens: readonly (readonly number[])[],
  vocabSize: number,
  attentionMask: readonly (readonly number[])[] | undefined,
  cache: KvCache | undefined,
  numLayers: number,
  positionIds?: readonly (readonly number[])[],
): Step {
  const batch = tokens.length;
  if (batch === 0) throw new HfReferenceError('a batch needs at least one sequence');
  const steps = tokens[0]!.length;
  if (steps === 0) throw new HfReferenceError('a call needs at least one token per sequence');
  for (const [b, row] of tokens.entries()) {
    if (row.length !== steps) {
      throw new HfReferenceError(`sequence ${b} has ${row.length} tokens, sequence 0 ${steps}`);
    }
    for (const t of row) {
      if (!Number.isInteger(t) || t < 0 || t >= vocabSize) {
        throw new HfReferenceError(`token ${t} in sequence ${b} is outside the vocabulary`);
      }
    }
  }
  if (cache && (cache.batch !== batch || cache.numLayers !== numLayers)) {
    throw new HfReferenceError(
      `the cache holds ${cache.batch} sequences of ${cache.numLayers} layers; ` +
        `this call has ${batch} sequences of a ${numLayers}-layer model`,
    );
  }
  const past = cache?.length ?? 0;
  const fullMask: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const cached = cache?.mask[b] ?? [];
    const given = attentionMask?.[b] ?? new Array<number>(steps).fill(1);
    if (attentionMask && attentionMask.length !== batch) {
      throw new HfReferenceError(
        `the mask has ${attentionMask.length} rows for ${batch} sequences`,
      );
    }
    let full: number[];
    if (given.length === steps) full = [...cached, ...given];
    else if (given.length === past + steps && given.slice(0, past).every((m, i) => m === cached[i]))
      full = [...given];
    else {
      throw new HfReferenceError(
        `mask row ${b} has ${given.length} entries: expected ${steps} (this call) or ` +
          `${past + steps} (cached and this call, agreeing with the cache)`,
      );
    }
    if (full.some((m) => m !== 0 && m !== 1)) {
      throw new HfReferenceError(`mask row ${b} holds a value other than 0 or 1`);
    }
    fullMask.push(full);
  }
  if (positionIds) {
    if (positionIds.length !== batch || positionIds.some((r) => r.length !== steps)) {
      throw new HfReferenceError(`position ids must be ${batch} rows of ${steps}`);
    }
    if (positionIds.some((r) => r.some((p) => !Number.isInteger(p) || p < 0))) {
      throw new HfReferenceError('a position id is not a non-negative integer');
    }
  }
  const positions =
    positionIds?.map((r) => [...r]) ??
    fullMask.map((row) => {
      let seen = 0;
      const ids = row.map((m) => {
        seen += m;
        return m === 1 ? seen - 1 : 1;
      });
      return ids.slice(past);
    });
  return { batch, steps, past, fullMask, positions };
}

/**
 * The slots query slot `i` of a sequence may see: causal (j ≤ i), not padding, and, with a
 * sliding window w, within it as masking_utils.sliding_window_overlay has it (j > i − w, so w
 * slots counting itself).
 */
export function visibleSlots(mask: readonly number[], i: number, slidingWindow?: number): number[] {
  const from = slidingWindow === undefined ? 0 : Math.max(0, i - slidingWindow + 1);
  const seen: number[] = [];
  for (let j = from; j <= i; j++) if (mask[j] === 1) seen.push(j);
  return seen;
}
