// The runtime over a loaded model (model.ts: checkpoint + tokenizer + chat template) on one
// engine (`HfSession`: the model and a runner, CpuHfModel or GpuHfModel): text in,
// generations, embeddings and token scores out, plus the mesh's low-level `logits` and
// `generateTokens`. Engine-agnostic: the Worker (src/worker/api.ts) picks the runner.

import { cryptoRng, seededRng } from '../rng';
import { checkGrid, generateIds, generateTokens } from './generate';
import type { HfModel } from './model';
import { RequestError } from './request-error';
import {
  DEFAULT_MAX_NEW_TOKENS,
  EMBED_BATCH,
  type EmbedRequest,
  GENERATE_BATCH,
  type GenerateOptions,
  type GenerateRequest,
  type Generation,
  type HfRunner,
  MAX_REQUEST_SEQUENCES,
  MAX_STOP_LENGTH,
  MAX_STOP_STRINGS,
  SCORE_BATCH,
  type ScoreRequest,
  type TokenScores,
} from './runtime-types';
import { checkSampling, type SamplingParams } from './sampling';
import { chatPrompts, requireTokenizer, truncateText } from './tokenize';

/**
 * A loaded model on one engine's runner. Calls run one at a time (a runner holds one batch),
 * in the order made.
 */
export class HfSession {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly model: HfModel,
    readonly runner: HfRunner,
  ) {}

  /** Runs `fn` after every call made before it has settled. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Generations, one per prompt, chat or token list (see GenerateRequest). */
  async generate(request: GenerateRequest): Promise<Generation[]> {
    const { info, checkpoint, tokenizer } = this.model;
    if (info.task !== 'generate') throw new RequestError('wrong-task', 'this model embeds');
    const r = request ?? {};
    const prompts = this.#inputs(r, 'generate');
    const g = checkpoint.generation;
    const longest = Math.max(...prompts.map((p) => p.length));
    if (longest >= info.maxPositions) {
      throw new RequestError(
        'too-long',
        `a prompt of ${longest} tokens leaves no room in ${info.maxPositions} positions`,
      );
    }
    const wanted = r.maxNewTokens ?? g.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    if (!(Number.isSafeInteger(wanted) && wanted >= 0)) {
      throw new RequestError('invalid-request', `maxNewTokens ${wanted} is not an integer ≥ 0`);
    }
    const sampling: SamplingParams = {
      temperature: r.temperature ?? (g.doSample ? g.temperature : 0),
      topK: r.topK ?? g.topK,
      topP: r.topP ?? g.topP,
      repetitionPenalty: g.repetitionPenalty,
    };
    checkSampling(sampling, info.vocab);
    const seed = r.seed ?? cryptoRng().nextUint32();
    if (!Number.isSafeInteger(seed)) {
      throw new RequestError('invalid-request', `seed ${seed} is not an integer`);
    }
    const stop = r.stop ?? [];
    if (
      !Array.isArray(stop) ||
      stop.length > MAX_STOP_STRINGS ||
      stop.some((s) => typeof s !== 'string' || s.length === 0 || s.length > MAX_STOP_LENGTH)
    ) {
      throw new RequestError(
        'invalid-request',
        `stop must be at most ${MAX_STOP_STRINGS} non-empty strings of ≤ ${MAX_STOP_LENGTH} characters`,
      );
    }
    // Ids past the tokenizer's (a vocabulary padded for the kernels, as Qwen's is) decode to
    // nothing, as transformers' fast tokenizers skip ids they do not know.
    const decode = (ids: number[]) =>
      tokenizer?.decode(
        ids.filter((id) => tokenizer.idToToken(id) !== undefined),
        { skipSpecialTokens: true },
      ) ?? '';
    const rule = {
      eos: new Set(info.eosTokenIds),
      stop,
      ...(tokenizer ? { decode } : {}),
      padId: g.padTokenId ?? info.eosTokenIds[0] ?? 0,
    };
    return this.#exclusive(async () => {
      const out: Generation[] = [];
      for (let b0 = 0; b0 < prompts.length; b0 += GENERATE_BATCH) {
        const part = prompts.slice(b0, b0 + GENERATE_BATCH);
        const room = info.maxPositions - Math.max(...part.map((p) => p.length));
        const plans = part.map((prompt, i) => ({
          prompt,
          sampling,
          ...(sampling.temperature > 0 ? { rng: seededRng((seed + b0 + i) >>> 0) } : {}),
        }));
        const ids = await generateIds(this.runner, plans, Math.min(wanted, room), rule);
        for (const [i, g] of ids.entries()) {
          out.push({ ...g, text: decode(g.tokens), promptTokens: part[i]!.length });
        }
      }
      return out;
    });
  }

  /** One pooled embedding per text or token list (see EmbedRequest). */
  async embed(request: EmbedRequest): Promise<Float32Array[]> {
    const { info, tokenizer } = this.model;
    if (info.task !== 'embed') throw new RequestError('wrong-task', 'this model generates');
    const r = request ?? {};
    const truncate = r.truncate ?? true;
    if (typeof truncate !== 'boolean') {
      throw new RequestError('invalid-request', 'truncate must be true or false');
    }
    const L = info.maxPositions;
    let seqs = this.#inputs(r, 'embed');
    const long = seqs.findIndex((s) => s.length > L);
    if (long >= 0 && !truncate) {
      throw new RequestError(
        'too-long',
        `input ${long} has ${seqs[long]!.length} tokens; the model takes ${L}`,
      );
    }
    if (long >= 0) {
      seqs =
        r.texts && tokenizer
          ? r.texts.map((t, i) => (seqs[i]!.length > L ? truncateText(tokenizer, t, L) : seqs[i]!))
          : seqs.map((s) => s.slice(0, L));
    }
    return this.#exclusive(async () => {
      const out: Float32Array[] = [];
      for (let b0 = 0; b0 < seqs.length; b0 += EMBED_BATCH) {
        out.push(...(await this.runner.embed(seqs.slice(b0, b0 + EMBED_BATCH))));
      }
      return out;
    });
  }

  /** Per-token log-probabilities of each text or token list (see ScoreRequest). */
  async score(request: ScoreRequest): Promise<TokenScores[]> {
    const { info } = this.model;
    if (info.task !== 'generate') throw new RequestError('wrong-task', 'this model embeds');
    const seqs = this.#inputs(request ?? {}, 'score');
    const long = seqs.findIndex((s) => s.length > info.maxPositions);
    if (long >= 0) {
      throw new RequestError(
        'too-long',
        `input ${long} has ${seqs[long]!.length} tokens; the model takes ${info.maxPositions}`,
      );
    }
    return this.#exclusive(async () => {
      const out: TokenScores[] = [];
      for (let b0 = 0; b0 < seqs.length; b0 += SCORE_BATCH) {
        const part = seqs.slice(b0, b0 + SCORE_BATCH);
        const rows = await this.runner.logits(part, 0);
        for (const [i, tokens] of part.entries()) out.push(tokenScores(tokens, rows[i]!));
      }
      return out;
    });
  }

  /** Logits at positions [from, seq) of `batch` sequences of `seq` ids: batch × (seq − from)
   * × vocab floats. */
  async logits(
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from: number,
  ): Promise<Float32Array> {
    this.#lowLevel(tokens, batch, seq);
    if (!(Number.isSafeInteger(from) && from >= 0 && from < seq)) {
      throw new RequestError('invalid-request', `from ${from} is not in 0..${seq - 1}`);
    }
    const V = this.model.info.vocab;
    return this.#exclusive(async () => {
      const rows = Array.from({ length: batch }, (_, b) =>
        Array.from(tokens.subarray(b * seq, (b + 1) * seq)),
      );
      const got = await this.runner.logits(rows, from);
      const out = new Float32Array(batch * (seq - from) * V);
      for (const [b, r] of got.entries()) out.set(r, b * (seq - from) * V);
      return out;
    });
  }

  /** The mesh's generation (generate.ts generateTokens): batch × steps ids. */
  async generateTokens(
    tokens: Uint32Array,
    batch: number,
    seq: number,
    options: GenerateOptions,
  ): Promise<Uint32Array> {
    this.#lowLevel(tokens, batch, seq);
    const steps = options?.steps;
    if (!(Number.isSafeInteger(steps) && steps >= 1)) {
      throw new RequestError('invalid-request', `steps ${steps} is not an integer ≥ 1`);
    }
    // The last token drawn is never fed back, so it takes no position.
    if (seq + steps - 1 > this.model.info.maxPositions) {
      throw new RequestError(
        'too-long',
        `${seq} + ${steps} − 1 positions exceed the model's ${this.model.info.maxPositions}`,
      );
    }
    return this.#exclusive(() => generateTokens(this.runner, tokens, batch, seq, options));
  }

  /** Frees the runner once the calls made before have settled. */
  dispose(): Promise<void> {
    return this.#exclusive(async () => {
      await this.runner.dispose();
    });
  }

  #lowLevel(tokens: Uint32Array, batch: number, seq: number) {
    const { info } = this.model;
    if (info.task !== 'generate') throw new RequestError('wrong-task', 'this model embeds');
    checkGrid(tokens, batch, seq);
    if (seq > info.maxPositions) {
      throw new RequestError('too-long', `${seq} tokens exceed ${info.maxPositions} positions`);
    }
    const bad = tokens.findIndex((t) => t >= info.vocab);
    if (bad >= 0) {
      throw new RequestError('invalid-request', `token ${tokens[bad]} is outside the vocabulary`);
    }
  }

  /** The token ids of a request's one input field, checked. */
  #inputs(r: GenerateRequest | EmbedRequest | ScoreRequest, call: string): number[][] {
    const { info } = this.model;
    const fields = (['prompts', 'chats', 'texts', 'tokens'] as const).filter(
      (k) => (r as Record<string, unknown>)[k] !== undefined,
    );
    if (fields.length !== 1) {
      throw new RequestError('invalid-request', `${call} takes exactly one input field`);
    }
    const field = fields[0]!;
    const list = (r as Record<string, unknown>)[field];
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_REQUEST_SEQUENCES) {
      throw new RequestError(
        'invalid-request',
        `${field} must be a list of 1..${MAX_REQUEST_SEQUENCES} entries`,
      );
    }
    let ids: number[][];
    if (field === 'tokens') {
      ids = list.map((s, i) => {
        if (!Array.isArray(s) || s.some((t) => !Number.isInteger(t) || t < 0 || t >= info.vocab)) {
          throw new RequestError(
            'invalid-request',
            `tokens[${i}] is not a list of ids below ${info.vocab}`,
          );
        }
        return [...(s as number[])];
      });
    } else {
      const tokenizer = requireTokenizer(this.model, field);
      const render = field === 'chats' ? chatPrompts(this.model) : undefined;
      ids = list.map((x, i) => {
        if (render) return tokenizer.encode(render(x), { addSpecialTokens: false });
        if (typeof x !== 'string') {
          throw new RequestError('invalid-request', `${field}[${i}] is not a string`);
        }
        return tokenizer.encode(x);
      });
    }
    const empty = ids.findIndex((s) => s.length === 0);
    if (empty >= 0) throw new RequestError('invalid-request', `${field}[${empty}] has no tokens`);
    return ids;
  }
}

/** log p(t_i | t_<i) from the logits after each token: log_softmax in float64. */
function tokenScores(tokens: number[], logits: Float32Array): TokenScores {
  const V = logits.length / tokens.length;
  const logprobs = new Float32Array(tokens.length - 1);
  let total = 0;
  for (let i = 1; i < tokens.length; i++) {
    const row = logits.subarray((i - 1) * V, i * V);
    let m = Number.NEGATIVE_INFINITY;
    for (const l of row) m = Math.max(m, l);
    let sum = 0;
    for (const l of row) sum += Math.exp(l - m);
    const lp = row[tokens[i]!]! - m - Math.log(sum);
    logprobs[i - 1] = lp;
    total += lp;
  }
  return { tokens, logprobs, total };
}
