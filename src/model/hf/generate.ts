// The batched generation loop over a runner (run-cpu.ts or run-gpu.ts): one prefill of the
// left-padded prompts, then one cached decode step per token. A sequence that has finished
// keeps stepping a pad token, as transformers' generate does (its logits are ignored), so
// every sequence computes what it would alone: attention masks keep the batch's rows apart.

import type { Rng } from '../rng';
import { seededRng } from '../rng';
import { sampleToken } from '../sample';
import { RequestError } from './request-error';
import type { GenerateOptions, HfRunner } from './runtime-types';
import { checkSampling, pickToken, type SamplingParams } from './sampling';

/** One sequence to generate: its prompt, how it picks tokens and, when sampling, its draws. */
export interface SequencePlan {
  prompt: number[];
  sampling: SamplingParams;
  rng?: Rng;
}

/** What ends a sequence before maxNewTokens. */
export interface StopRule {
  eos: ReadonlySet<number>;
  /** Stop strings, matched in the generated text (decoded with special tokens skipped). */
  stop: readonly string[];
  /** Decodes generated ids; needed when `stop` is not empty. */
  decode?: (ids: number[]) => string;
  /** What a finished sequence steps while the others go on. */
  padId: number;
}

export interface GeneratedIds {
  tokens: number[];
  finishReason: 'stop' | 'length';
}

/**
 * Generates up to `maxNewTokens` tokens for each plan, together. A sequence stops at an eos
 * token or once its generated text holds a stop string ('stop'; the token that did it is kept),
 * else after maxNewTokens ('length').
 */
export async function generateIds(
  runner: HfRunner,
  plans: readonly SequencePlan[],
  maxNewTokens: number,
  rule: StopRule,
): Promise<GeneratedIds[]> {
  const out = plans.map((): GeneratedIds => ({ tokens: [], finishReason: 'length' }));
  if (maxNewTokens === 0 || plans.length === 0) return out;
  if (rule.stop.length > 0 && !rule.decode) {
    throw new RequestError('invalid-request', 'stop strings need the model’s tokenizer');
  }
  const seen = plans.map((p) => new Set(p.prompt));
  const done = plans.map(() => false);
  // The last token is never fed back: the cache needs room for maxNewTokens − 1 more.
  let logits = await runner.start(
    plans.map((p) => p.prompt),
    maxNewTokens - 1,
  );
  for (let step = 0; ; step++) {
    const next: number[] = [];
    for (const [b, plan] of plans.entries()) {
      if (done[b]) {
        next.push(rule.padId);
        continue;
      }
      const t = pickToken(logits[b]!, plan.sampling, plan.rng, seen[b]);
      const o = out[b]!;
      o.tokens.push(t);
      seen[b]!.add(t);
      next.push(t);
      if (rule.eos.has(t) || stopped(o.tokens, rule)) {
        o.finishReason = 'stop';
        done[b] = true;
      }
    }
    if (step === maxNewTokens - 1 || done.every(Boolean)) return out;
    logits = await runner.step(next);
  }
}

/** Whether the generated text holds a stop string. It is checked after every token, so the
 * first token to complete one ends the sequence. */
function stopped(tokens: number[], rule: StopRule): boolean {
  if (rule.stop.length === 0) return false;
  const text = rule.decode!(tokens);
  return rule.stop.some((s) => text.includes(s));
}

/**
 * The mesh's generation: `steps` tokens for each of `batch` prompts of `seq` tokens
 * (batch × steps, sequence-major), with src/model/sample.ts's semantics so that
 * src/jobs/token-check.ts can replay it: greedy at temperature 0, else sequence i draws once
 * per step from a generator seeded with seeds[i], over softmax(logits / temperature) in id
 * order. No eos stop, no penalty, no cut: exactly `steps` tokens.
 */
export async function generateTokens(
  runner: HfRunner,
  tokens: Uint32Array,
  batch: number,
  seq: number,
  options: GenerateOptions,
): Promise<Uint32Array> {
  checkGrid(tokens, batch, seq);
  const { steps, temperature, seeds } = options ?? ({} as GenerateOptions);
  if (!(Number.isSafeInteger(steps) && steps >= 1)) {
    throw new RequestError('invalid-request', `steps ${steps} is not an integer ≥ 1`);
  }
  checkSampling({ temperature, topK: 0, topP: 1 }, 1);
  if (temperature > 0 && !(seeds instanceof Uint32Array && seeds.length === batch)) {
    throw new RequestError('invalid-request', `sampling needs one seed per sequence (${batch})`);
  }
  const rngs = temperature > 0 ? Array.from(seeds, (s) => seededRng(s)) : [];
  const prompts = Array.from({ length: batch }, (_, b) =>
    Array.from(tokens.subarray(b * seq, (b + 1) * seq)),
  );
  const out = new Uint32Array(batch * steps);
  let logits = await runner.start(prompts, steps - 1);
  for (let t = 0; ; t++) {
    const next = logits.map((row, b) => sampleToken(row, temperature, rngs[b]));
    for (const [b, id] of next.entries()) out[b * steps + t] = id;
    if (t === steps - 1) return out;
    logits = await runner.step(next);
  }
}

/** Checks a batch × seq grid of token ids as the low-level calls take it. */
export function checkGrid(tokens: Uint32Array, batch: number, seq: number): void {
  if (!(tokens instanceof Uint32Array)) {
    throw new RequestError('invalid-request', 'tokens must be a Uint32Array');
  }
  if (!(Number.isSafeInteger(batch) && batch >= 1 && Number.isSafeInteger(seq) && seq >= 1)) {
    throw new RequestError('invalid-request', `batch ${batch} × seq ${seq} is not a grid`);
  }
  if (tokens.length !== batch * seq) {
    throw new RequestError('invalid-request', `${tokens.length} tokens for ${batch} × ${seq}`);
  }
}
