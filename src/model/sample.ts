import { type Rng, seededRng, uniform } from './rng';

/**
 * Picks the next token from one row of logits: greedy when `temperature` is 0, otherwise a draw
 * from softmax(logits / temperature) with `rng` (seed it for reproducible text).
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, rng?: Rng): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be ≥ 0, got ${temperature}`);
  }
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  if (!rng) throw new RangeError('sampling with a temperature needs a random source');
  const m = logits[best]!;
  const w = Float64Array.from(logits, (l) => Math.exp((l - m) / temperature));
  let r = uniform(rng) * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) {
    r -= w[i]!;
    if (r < 0) return i;
  }
  return best; // only reached through rounding at the very end of the distribution
}

/** Anything that maps token sequences to last-position logits (GpuGpt, or a reference). */
export interface LanguageModel {
  readonly config: { vocab: number; maxSeq: number };
  forward(tokens: Uint32Array, batch: number, seq: number): Promise<Float32Array | Float64Array>;
}

/**
 * Extends `batch` prompts of `seq` tokens by `steps` tokens each, one batched forward pass per
 * step over the last `maxSeq` tokens. Greedy when `temperature` is 0; otherwise sequence i draws
 * from its own generator seeded with `seeds[i]`, one draw per step, so any two honest runs pick
 * the same tokens (and src/jobs/token-check.ts can replay the draws). Returns batch × steps.
 */
export async function generateBatch(
  model: LanguageModel,
  tokens: Uint32Array,
  batch: number,
  seq: number,
  { steps, temperature, seeds }: { steps: number; temperature: number; seeds: Uint32Array },
): Promise<Uint32Array> {
  if (!Number.isSafeInteger(steps) || steps < 1) throw new RangeError('steps must be ≥ 1');
  if (tokens.length !== batch * seq) throw new RangeError(`expected ${batch * seq} tokens`);
  if (temperature > 0 && seeds.length !== batch) throw new RangeError('one seed per sequence');
  const rngs = temperature > 0 ? Array.from(seeds, (s) => seededRng(s)) : [];
  const { vocab, maxSeq } = model.config;
  const ctx = Array.from({ length: batch }, (_, b) =>
    Array.from(tokens.subarray(b * seq, (b + 1) * seq)),
  );
  const out = new Uint32Array(batch * steps);
  for (let t = 0; t < steps; t++) {
    const len = Math.min(seq + t, maxSeq);
    const input = new Uint32Array(batch * len);
    for (const [b, c] of ctx.entries()) input.set(c.slice(-len), b * len);
    const logits = await model.forward(input, batch, len);
    for (let b = 0; b < batch; b++) {
      const next = sampleToken(logits.subarray(b * vocab, (b + 1) * vocab), temperature, rngs[b]);
      ctx[b]!.push(next);
      out[b * steps + t] = next;
    }
  }
  return out;
}

/**
 * Extends `prompt` by `steps` tokens, one forward pass per token over the last `maxSeq` tokens
 * of context (no KV cache: these models and sequences are small).
 */
export async function generate(
  model: LanguageModel,
  prompt: ArrayLike<number>,
  steps: number,
  { temperature = 0, rng }: { temperature?: number; rng?: Rng } = {},
): Promise<number[]> {
  if (prompt.length === 0) throw new RangeError('the prompt needs at least one token');
  const out = Array.from(prompt);
  for (let s = 0; s < steps; s++) {
    const ctx = Uint32Array.from(out.slice(-model.config.maxSeq));
    const logits = await model.forward(ctx, 1, ctx.length);
    out.push(sampleToken(logits, temperature, rng));
  }
  return out.slice(prompt.length);
}
