import type { Engine } from '../../src/jobs/job';
import type { ModelHost } from '../../src/mesh/models';
import { type Checkpoint, loadCheckpoint } from '../../src/model/hf/checkpoint';
import { parseConfig } from '../../src/model/hf/config';
import { type ModelSummary, modelSummary } from '../../src/model/hf/cost';
import { filesFromMap } from '../../src/model/hf/files';
import {
  bertForward,
  decoderForward,
  gpt2Forward,
  KvCache,
  poolEmbeddings,
} from '../../src/model/hf/reference';
import type { BertConfig } from '../../src/model/hf/types';
import { seededRng } from '../../src/model/rng';
import { sampleToken } from '../../src/model/sample';
import type { CheckpointFileMap, ModelInfo } from '../../src/worker/api';
import { type HfFixtureKind, hfCheckpoint } from './hf-checkpoints';

/** config.json keys of the tests' small GPT-2: 37 tokens, 2 layers, width 64, context 24. */
const TINY_GPT2 = {
  vocab_size: 37,
  n_positions: 24,
  n_ctx: 24,
  n_embd: 64,
  n_head: 4,
  bos_token_id: 0,
  eos_token_id: 0,
};

/** A small random-weight Hugging Face checkpoint (tests/support/hf-checkpoints.ts): GPT-2 at
 * TINY_GPT2's shape by default, or another family's fixture as it is. */
export function tinyModelFiles(seed: number, kind: HfFixtureKind = 'gpt2'): CheckpointFileMap {
  const config = kind === 'gpt2' || kind === 'gpt2-bare' ? TINY_GPT2 : {};
  return Object.fromEntries(hfCheckpoint({ kind, seed, config }).files);
}

/** The tiny GPT-2's summary, as an inference spec carries it. */
export const tinySummary: ModelSummary = modelSummary(
  parseConfig(JSON.parse(new TextDecoder().decode(tinyModelFiles(0)['config.json']!))),
);

/** What a Worker's loadModel reports of a checkpoint. */
function infoOf(c: Checkpoint): ModelInfo {
  const s = modelSummary(c.config);
  let params = 0;
  let weightBytes = 0;
  for (const name of c.weights.names()) {
    const t = c.weights.get(name);
    params += t.data.length;
    weightBytes += t.data.byteLength;
  }
  return {
    digest: c.digest,
    family: c.family,
    architecture: c.family,
    task: c.family === 'bert' ? 'embed' : 'generate',
    vocab: s.vocab,
    maxPositions: s.maxPositions,
    hiddenSize: s.hidden,
    params,
    weightBytes,
    chatTemplate: false,
    eosTokenIds: c.generation.eosTokenIds,
  };
}

/** Every position's logits of each row, by the float64 reference of the checkpoint's family;
 * with `cache`, the rows follow what it holds (a decode step). */
function forward(c: Checkpoint, rows: number[][], cache?: KvCache): Float64Array[][] {
  const options = cache ? { cache } : {};
  if (c.config.family === 'gpt2') return gpt2Forward(c.config, c.weights, rows, options);
  if (c.config.family === 'bert') throw new Error('BERT has no LM head');
  return decoderForward(c.config, c.weights, rows, options);
}

/**
 * An engine on the float64 Hugging Face reference (rounded to float32, as an engine returns
 * it): exact, deterministic and quick for tiny models. Generation follows the Worker's
 * generateTokens (src/model/sample.ts's draws, one per step). `tamper` lets a test play a
 * cheating engine.
 */
export function referenceEngine(
  tamper: {
    logits?: (l: Float32Array) => Float32Array;
    tokens?: (t: Uint32Array) => Uint32Array;
    vectors?: (v: Float32Array, row: number) => Float32Array;
    score?: (total: number) => number;
  } = {},
): Engine & ModelHost & { models: Map<string, Checkpoint>; calls: Record<string, number> } {
  const models = new Map<string, Checkpoint>();
  const calls: Record<string, number> = { logits: 0, generateTokens: 0 };
  const model = (digest: string) => {
    const m = models.get(digest);
    if (!m) throw new Error(`no model ${digest}`);
    return m;
  };
  const rowsOf = (tokens: Uint32Array, batch: number, seq: number) =>
    Array.from({ length: batch }, (_, b) => Array.from(tokens.subarray(b * seq, (b + 1) * seq)));
  return {
    models,
    calls,
    async loadModel(files) {
      const m = await loadCheckpoint(filesFromMap(new Map(Object.entries(files))));
      models.set(m.digest, m);
      return infoOf(m);
    },
    async hasModel(digest) {
      return models.has(digest);
    },
    async matmul() {
      throw new Error('not a matmul engine');
    },
    async logits(digest, tokens, batch, seq, from) {
      calls.logits!++;
      const m = model(digest);
      const vocab = m.config.vocabSize;
      const all = forward(m, rowsOf(tokens, batch, seq));
      const P = seq - from;
      const out = new Float32Array(batch * P * vocab);
      all.forEach((row, b) => {
        for (let p = from; p < seq; p++) out.set(row[p]!, (b * P + p - from) * vocab);
      });
      return tamper.logits ? tamper.logits(out) : out;
    },
    async generateTokens(digest, tokens, batch, seq, { steps, temperature, seeds }) {
      calls.generateTokens!++;
      const m = model(digest);
      const rngs = temperature > 0 ? Array.from(seeds, (s) => seededRng(s)) : [];
      const out = new Uint32Array(batch * steps);
      // Prefill, then one token a step through the KV cache, as the Worker generates.
      const cache = new KvCache(batch, modelSummary(m.config).layers);
      let all = forward(m, rowsOf(tokens, batch, seq), cache);
      for (let t = 0; t < steps; t++) {
        const next = all.map((row, b) =>
          sampleToken(Float32Array.from(row.at(-1)!), temperature, rngs[b]),
        );
        next.forEach((id, b) => {
          out[b * steps + t] = id;
        });
        if (t < steps - 1)
          all = forward(
            m,
            next.map((id) => [id]),
            cache,
          );
      }
      return tamper.tokens ? tamper.tokens(out) : out;
    },
    async embed(digest, { tokens }) {
      calls.embed = (calls.embed ?? 0) + 1;
      const m = model(digest);
      if (m.config.family !== 'bert' || !tokens) throw new Error('an encoder embeds tokens');
      // One row at a time: no padding, so the reference is each row's own.
      const out = tokens.map((row) => {
        const hidden = bertForward(m.config as BertConfig, m.weights, [row]);
        const pooling = m.pooling ?? { mode: 'mean' as const, normalize: false };
        return Float32Array.from(poolEmbeddings(hidden, [row.map(() => 1)], pooling)[0]!);
      });
      return tamper.vectors ? out.map(tamper.vectors) : out;
    },
    async score(digest, { tokens }) {
      calls.score = (calls.score ?? 0) + 1;
      if (!tokens) throw new Error('scores tokens');
      const m = model(digest);
      return tokens.map((row) => {
        const logits = forward(m, [row])[0]!;
        const logprobs = new Float32Array(row.length - 1);
        let total = 0;
        for (let i = 1; i < row.length; i++) {
          const z = logits[i - 1]!;
          let max = Number.NEGATIVE_INFINITY;
          for (const x of z) max = Math.max(max, x);
          let sum = 0;
          for (const x of z) sum += Math.exp(x - max);
          const lp = z[row[i]!]! - max - Math.log(sum);
          logprobs[i - 1] = lp;
          total += lp;
        }
        return { tokens: row, logprobs, total: tamper.score ? tamper.score(total) : total };
      });
    },
  };
}
