// The workloads bench's simulated contributors' rows (bench/workloads-catch.ts): a faker's
// replaced rows, and a shard assembled from rows computed once (the faker-alone jobs share one
// data set).
import { type InferenceOutput, type InferenceWork, inferenceOutput } from '../src/jobs/codec';
import { computeInference } from '../src/jobs/inference-compute';
import type { Engine } from '../src/jobs/job';
import type { ModelSummary } from '../src/model/hf/cost';
import { type Rng, uniform } from '../src/model/rng';

/** One row's output: its embedding, score or generated tokens. */
export type RowOutput = Float32Array | number | Uint32Array;

/** A shard computed from the rows `cache` holds, computing (and keeping) the ones it lacks. */
export async function cachedCompute(
  w: InferenceWork,
  engine: Engine,
  hidden: number, // the model's width: an embedding's length
  cache: Map<string, RowOutput>,
): Promise<InferenceOutput> {
  const n = w.lengths.length;
  const keys: string[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    keys.push(w.tokens.subarray(at, at + w.lengths[i]!).join(','));
    at += w.lengths[i]!;
  }
  if (!keys.every((k) => cache.has(k))) {
    const out = await computeInference(w, engine);
    const dim = hidden;
    keys.forEach((k, i) => {
      if (w.mode === 'embed') cache.set(k, out.vectors.slice(i * dim, (i + 1) * dim));
      else if (w.mode === 'score') cache.set(k, out.scores[i]!);
      else cache.set(k, out.tokens.slice(i * w.steps, (i + 1) * w.steps));
    });
    return out;
  }
  const rows = keys.map((k) => cache.get(k)!);
  if (w.mode === 'score') return inferenceOutput({ scores: Float32Array.from(rows as number[]) });
  const width = w.mode === 'embed' ? hidden : w.steps;
  const flat = w.mode === 'embed' ? new Float32Array(n * width) : new Uint32Array(n * width);
  for (const [i, r] of rows.entries()) flat.set(r as ArrayLike<number>, i * width);
  return w.mode === 'embed'
    ? inferenceOutput({ vectors: flat as Float32Array })
    : inferenceOutput({ tokens: flat as Uint32Array });
}

/** `output` with a `share` of its rows replaced (each row independently); how many were. */
export function fake(
  output: InferenceOutput,
  w: InferenceWork,
  model: ModelSummary,
  share: number,
  rng: Rng,
): { output: InferenceOutput; rows: number } {
  const n = w.lengths.length;
  const vectors = output.vectors.slice();
  const scores = output.scores.slice();
  const tokens = output.tokens.slice();
  let rows = 0;
  for (let i = 0; i < n; i++) {
    if (!(uniform(rng) < share)) continue;
    rows++;
    if (w.mode === 'embed') {
      const dim = model.hidden;
      const v = vectors.subarray(i * dim, (i + 1) * dim);
      let norm = 0;
      for (let k = 0; k < dim; k++) {
        v[k] = uniform(rng) - 0.5;
        norm += v[k]! * v[k]!;
      }
      for (let k = 0; k < dim; k++) v[k]! /= Math.sqrt(norm);
    } else if (w.mode === 'score') {
      scores[i] = -(w.lengths[i]! - 1) * Math.log(model.vocab);
    } else {
      const s = w.steps;
      for (let k = Math.floor(s / 2); k < s; k++)
        tokens[i * s + k] = rng.nextUint32() % model.vocab;
    }
  }
  return { output: { ...output, vectors, scores, tokens }, rows };
}
