import { type InferenceOutput, type InferenceWork, inferenceOutput } from './codec';
import type { Engine } from './job';

/** Where each sequence starts in the concatenated tokens. */
export function prefixSums(lengths: Uint32Array): Uint32Array {
  const out = new Uint32Array(lengths.length);
  for (let i = 1; i < lengths.length; i++) out[i] = out[i - 1]! + lengths[i - 1]!;
  return out;
}

/** Sequence indices grouped by length, so each group runs as one batch. */
export function groupByLength(lengths: Uint32Array): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  lengths.forEach((l, i) => {
    const g = groups.get(l);
    if (g) g.push(i);
    else groups.set(l, [i]);
  });
  return groups;
}

/**
 * Runs an inference shard on an engine: sequences of one length go through together, and the
 * outputs come back in the shard's order. The contributor's compute function, and the owner's.
 */
export async function computeInference(w: InferenceWork, engine: Engine): Promise<InferenceOutput> {
  if (w.mode === 'embed' || w.mode === 'score') return computeRows(w, engine);
  const n = w.lengths.length;
  const offsets = prefixSums(w.lengths);
  let logits = new Float32Array(0);
  const tokens = new Uint32Array(w.mode === 'tokens' ? n * w.steps : 0);
  for (const [len, idx] of groupByLength(w.lengths)) {
    const batch = new Uint32Array(idx.length * len);
    for (const [j, i] of idx.entries()) {
      batch.set(w.tokens.subarray(offsets[i]!, offsets[i]! + len), j * len);
    }
    if (w.mode === 'logits') {
      // Logits at the last position only: [len − 1, len).
      const out = await engine.logits(w.modelDigest, batch, idx.length, len, len - 1);
      const vocab = out.length / idx.length;
      if (logits.length === 0) logits = new Float32Array(n * vocab);
      for (const [j, i] of idx.entries()) {
        logits.set(out.subarray(j * vocab, (j + 1) * vocab), i * vocab);
      }
    } else {
      const seeds = w.seeds.length ? Uint32Array.from(idx, (i) => w.seeds[i]!) : new Uint32Array(0);
      const out = await engine.generateTokens(w.modelDigest, batch, idx.length, len, {
        steps: w.steps,
        temperature: w.temperature,
        seeds,
      });
      for (const [j, i] of idx.entries()) {
        tokens.set(out.subarray(j * w.steps, (j + 1) * w.steps), i * w.steps);
      }
    }
  }
  return inferenceOutput({ logits, tokens });
}

/** The shard's sequences as the runtime's requests take them. */
export function sequencesOf(w: InferenceWork): number[][] {
  const offsets = prefixSums(w.lengths);
  return Array.from(w.lengths, (len, i) =>
    Array.from(w.tokens.subarray(offsets[i]!, offsets[i]! + len)),
  );
}

/** Embeddings (the checkpoint's pooling) or log-likelihoods of every sequence: the runtime
 * batches ragged rows itself. */
async function computeRows(w: InferenceWork, engine: Engine): Promise<InferenceOutput> {
  const tokens = sequencesOf(w);
  if (w.mode === 'embed') {
    // Rows are cut to the model's positions when the job is made; the runtime would refuse
    // longer ones rather than cut them differently.
    const vectors = await engine.embed(w.modelDigest, { tokens, truncate: false });
    const dim = vectors[0]?.length ?? 0;
    const out = new Float32Array(vectors.length * dim);
    for (const [i, v] of vectors.entries()) out.set(v, i * dim);
    return inferenceOutput({ vectors: out });
  }
  const scored = await engine.score(w.modelDigest, { tokens });
  return inferenceOutput({ scores: Float32Array.from(scored, (s) => s.total) });
}
