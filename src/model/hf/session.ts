// A loaded model (checkpoint + tokenizer + chat template: `loadHfModel`) and the runtime over
// it on one engine (`HfSession`: the model and a runner, CpuHfModel or GpuHfModel): text in,
// generations, embeddings and token scores out, plus the mesh's low-level `logits` and
// `generateTokens`. Engine-agnostic: the Worker (src/worker/api.ts) picks the runner.

import { cryptoRng, seededRng } from '../rng';
import { applyChatTemplate } from './chat-template';
import { type Checkpoint, loadCheckpoint } from './checkpoint';
import { parseJsonObject } from './config';
import { CheckpointError } from './errors';
import type { CheckpointFiles } from './files';
import { checkGrid, generateIds, generateTokens } from './generate';
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
  type ModelInfo,
  SCORE_BATCH,
  type ScoreRequest,
  type TokenScores,
} from './runtime-types';
import { checkSampling, type SamplingParams } from './sampling';
import { type HfTokenizer, loadTokenizer, TokenizerError } from './tokenizer';

/** Longest sequence tessel runs, tokens: the GPU's exact rotary positions (src/gpu/hf). */
export const MAX_SEQUENCE = 2 ** 17;

/** A checkpoint with what turns text into its tokens and back. */
export interface HfModel {
  checkpoint: Checkpoint;
  /** tokenizer.json's tokenizer; undefined when the folder has none (token ids only). */
  tokenizer?: HfTokenizer;
  /** tokenizer_config.json as parsed ({} when absent): the chat template's variables. */
  tokenizerConfig: Record<string, unknown>;
  /** chat_template.jinja, which overrides tokenizer_config.json's template. */
  chatTemplate?: string;
  info: ModelInfo;
}

/**
 * Loads and checks a checkpoint folder and its tokenizer. Throws CheckpointError for the
 * checkpoint, TokenizerError for tokenizer.json / tokenizer_config.json (also when the
 * tokenizer has ids past the model's vocabulary).
 */
export async function loadHfModel(source: CheckpointFiles): Promise<HfModel> {
  // Each file read once: the loader and this function share the copies.
  const read = new Map<string, Promise<Uint8Array>>();
  const files: CheckpointFiles = {
    list: () => source.list(),
    read: (name) => {
      let p = read.get(name);
      if (!p) {
        p = source.read(name);
        read.set(name, p);
      }
      return p;
    },
  };
  const checkpoint = await loadCheckpoint(files);
  const present = new Set(files.list());
  const config = parseJsonObject('config.json', await files.read('config.json'));
  const json = async (name: string) => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await files.read(name)));
    } catch (e) {
      throw new TokenizerError('json', name, '', `not UTF-8 JSON: ${(e as Error).message}`);
    }
  };
  const tokenizerConfig = present.has('tokenizer_config.json')
    ? await json('tokenizer_config.json')
    : {};
  if (typeof tokenizerConfig !== 'object' || tokenizerConfig === null) {
    throw new TokenizerError('json', 'tokenizer_config.json', '', 'is not a JSON object');
  }
  const c = checkpoint.config;
  const vocab = c.vocabSize;
  let tokenizer: HfTokenizer | undefined;
  if (present.has('tokenizer.json')) {
    tokenizer = loadTokenizer(await json('tokenizer.json'), tokenizerConfig);
    if (tokenizer.vocabSize > vocab) {
      throw new TokenizerError(
        'vocab',
        'tokenizer.json',
        '',
        `ids up to ${tokenizer.vocabSize - 1} do not fit the model's vocabulary of ${vocab}`,
      );
    }
  }
  let chatTemplate: string | undefined;
  if (present.has('chat_template.jinja')) {
    try {
      chatTemplate = new TextDecoder('utf-8', { fatal: true }).decode(
        await files.read('chat_template.jinja'),
      );
    } catch (e) {
      throw new TokenizerError('chat-template', 'chat_template.jinja', '', 'is not UTF-8', {
        cause: e,
      });
    }
  }
  const w = checkpoint.weights;
  const names = w.names();
  const archs = config.architectures;
  const info: ModelInfo = {
    digest: checkpoint.digest,
    family: checkpoint.family,
    architecture:
      Array.isArray(archs) && typeof archs[0] === 'string'
        ? archs[0]
        : String(config.model_type ?? checkpoint.family),
    task: c.family === 'bert' ? 'embed' : 'generate',
    vocab,
    maxPositions: await maxPositions(checkpoint, files, present),
    hiddenSize: c.family === 'gpt2' ? c.nEmbd : c.hiddenSize,
    params: names.reduce((n, k) => n + w.get(k).shape.reduce((a, b) => a * b, 1), 0),
    weightBytes: names.reduce((n, k) => n + w.get(k).data.byteLength, 0),
    chatTemplate: chatTemplate !== undefined || tokenizerConfig.chat_template != null,
    eosTokenIds: [...checkpoint.generation.eosTokenIds],
  };
  return {
    checkpoint,
    ...(tokenizer ? { tokenizer } : {}),
    tokenizerConfig,
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
    info,
  };
}

/** The model's positions; for an embedder, sentence_bert_config.json's max_seq_length when it
 * is shorter (what sentence-transformers truncates to). */
async function maxPositions(ck: Checkpoint, files: CheckpointFiles, present: Set<string>) {
  const c = ck.config;
  const model = Math.min(c.family === 'gpt2' ? c.nPositions : c.maxPositions, MAX_SEQUENCE);
  const file = 'sentence_bert_config.json';
  if (c.family !== 'bert' || !present.has(file)) return model;
  const msl = parseJsonObject(file, await files.read(file)).max_seq_length;
  if (msl === undefined || msl === null) return model;
  if (!(Number.isSafeInteger(msl) && (msl as number) >= 1)) {
    throw new CheckpointError('config-value', file, 'max_seq_length', 'must be an integer ≥ 1');
  }
  return Math.min(model, msl as number);
}

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
    if (!(seq + steps <= this.model.info.maxPositions)) {
      throw new RequestError(
        'too-long',
        `${seq} + ${steps} tokens exceed the model's ${this.model.info.maxPositions} positions`,
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
    const { tokenizer, info } = this.model;
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
      if (!tokenizer) {
        throw new CheckpointError(
          'missing-file',
          'tokenizer.json',
          '',
          `${field} need a tokenizer`,
        );
      }
      ids = list.map((x, i) => {
        if (field === 'chats') {
          const text = applyChatTemplate(this.model.tokenizerConfig, x, {
            addGenerationPrompt: true,
            ...(this.model.chatTemplate !== undefined
              ? { chatTemplate: this.model.chatTemplate }
              : {}),
          });
          return tokenizer.encode(text, { addSpecialTokens: false });
        }
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

/**
 * A text's ids cut to `L` as the tokenizer's truncation cuts them: the text's own tokens are
 * cut, the special tokens the post-processor puts around them ([CLS] … [SEP]) are kept.
 */
function truncateText(tokenizer: HfTokenizer, text: string, L: number): number[] {
  const full = tokenizer.encode(text);
  const plain = tokenizer.encode(text, { addSpecialTokens: false });
  // The post-processor's template around the text: prefix + plain + suffix.
  const specials = full.length - plain.length;
  for (let pre = 0; pre <= specials && specials < L; pre++) {
    if (plain.every((t, i) => full[pre + i] === t)) {
      const post = specials - pre;
      return [
        ...full.slice(0, pre),
        ...plain.slice(0, L - specials),
        ...full.slice(full.length - post),
      ];
    }
  }
  return full.slice(0, L);
}
