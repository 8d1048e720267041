/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) for tessel: BPE (byte-level
 * as in Llama 3, Qwen, GPT-2; or with byte fallback), WordPiece (BERT) and Unigram, with special
 * and added tokens. The encoding itself is @huggingface/tokenizers, the tokenizer transformers.js
 * runs, extracted from it. This module stands between it and files a peer may have forged: the
 * model section, the vocabulary, merges and added tokens are checked first, so that a malformed
 * file is a TokenizerError naming the file and the field, never a crash inside the library or a
 * silent wrong id. Then one fixed sample is encoded, so that a pipeline the library cannot run
 * (an unknown normalizer, a bad regex) fails at load, not at the first request.
 *
 * What adds BOS/EOS is the file's post_processor, as in transformers' PreTrainedTokenizerFast
 * (which Llama 3 and Qwen use); tokenizer_config.json names which ids are bos/eos/pad/unk.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export type TokenizerErrorCode =
  | 'json' // not the JSON object it must be
  | 'unsupported' // a model type or pipeline component the tokenizer cannot run
  | 'vocab' // a vocabulary entry, merge or added token that is malformed or inconsistent
  | 'special-token' // tokenizer_config.json names a token that is not in the vocabulary
  | 'encode' // text the vocabulary cannot encode (no unk token), or the pipeline failed
  | 'decode' // an id outside the vocabulary
  | 'padding' // a batch asked to pad with no pad token
  | 'chat-template'; // the chat template is missing, does not parse, or raised

/** The one error of tokenizer.json, tokenizer_config.json and chat templates. */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
  constructor(
    readonly code: TokenizerErrorCode,
    /** The file to blame: `tokenizer.json` or `tokenizer_config.json`. */
    readonly file: string,
    /** The field to blame (`model.vocab`, `added_tokens[3].id`, `chat_template`); '' for none. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${field ? ` (${field})` : ''}: ${message}`, options);
  }
}

/**
 * The largest token id accepted, exclusive. Real vocabularies are under 300_000 ids; this bound
 * keeps a forged id from sizing an embedding table or an id→token array.
 */
export const MAX_VOCAB_SIZE = 1 << 22;

/** Encoded once at load: every character class the pre-tokenizers split on. */
const LOAD_PROBE = 'Hello, world! 123  \t\n  héllo 你好 😀 <code>x+=1;</code>';

const TJ = 'tokenizer.json';
const TC = 'tokenizer_config.json';

export interface EncodeOptions {
  /** Add the special tokens the file's post_processor adds (BOS for Llama 3.1, [CLS]/[SEP]). */
  addSpecialTokens?: boolean; // default true, as in transformers
}

export interface DecodeOptions {
  /** Drop every special token (added tokens marked special, additional_special_tokens). */
  skipSpecialTokens?: boolean; // default false
  /** transformers' clean-up (" ." → "."); default: tokenizer_config.json's value, else false. */
  cleanUpTokenizationSpaces?: boolean;
}

export interface BatchOptions extends EncodeOptions {
  /** 'left' for decoders (generation continues at the right edge), 'right' for encoders. */
  side: 'left' | 'right';
  /** The id padded with; default the tokenizer's pad token (an error when it has none). */
  padTokenId?: number;
}

/** A padded batch: `ids[b]` and `attentionMask[b]` all have the longest row's length. */
export interface Batch {
  ids: number[][];
  /** 1 for a real token, 0 for padding. */
  attentionMask: number[][];
}

export interface HfTokenizer {
  /** Ids in use, model vocabulary and added tokens: the largest id + 1 (transformers' len()). */
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly unkTokenId: number | null;
  /** Ids of the tokens decode({ skipSpecialTokens }) drops. */
  readonly specialTokenIds: ReadonlySet<number>;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  encodeBatch(texts: readonly string[], options: BatchOptions): Batch;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < MAX_VOCAB_SIZE;

function fail(code: TokenizerErrorCode, field: string, message: string, file = TJ): never {
  throw new TokenizerError(code, file, field, message);
}

/** Infers the model type as tokenizers' untagged deserializer does when `type` is absent. */
function modelType(model: Json): 'BPE' | 'WordPiece' | 'Unigram' {
  const t = model.type;
  if (t === 'BPE' || t === 'WordPiece' || t === 'Unigram') return t;
  if (t !== undefined) fail('unsupported', 'model.type', `model type ${JSON.stringify(t)}`);
  if (Array.isArray(model.vocab)) return 'Unigram';
  if ('merges' in model) return 'BPE';
  if ('continuing_subword_prefix' in model) return 'WordPiece';
  return fail('unsupported', 'model.type', 'no type, and not recognisably BPE/WordPiece/Unigram');
}

/** Checks the model section; returns token → id of the model vocabulary. */
function checkModel(model: Json): Map<string, number> {
  const type = modelType(model);
  const ids = new Map<string, number>();
  const taken = new Set<number>();
  const add = (token: string, id: unknown, field: string) => {
    if (!isId(id))
      fail('vocab', field, `id ${JSON.stringify(id)} is not an integer in [0, ${MAX_VOCAB_SIZE})`);
    if (taken.has(id)) fail('vocab', field, `id ${id} is given to two tokens`);
    if (ids.has(token)) fail('vocab', field, `token ${JSON.stringify(token)} appears twice`);
    taken.add(id);
    ids.set(token, id);
  };
  if (type === 'Unigram') {
    if (!Array.isArray(model.vocab)) fail('vocab', 'model.vocab', 'a Unigram vocab is a list');
    model.vocab.forEach((e: unknown, i) => {
      const ok = Array.isArray(e) && e.length === 2 && typeof e[0] === 'string';
      if (!ok || typeof e[1] !== 'number' || !Number.isFinite(e[1]))
        fail('vocab', `model.vocab[${i}]`, 'is not a [token, finite score] pair');
      add(e[0], i, `model.vocab[${i}]`);
    });
    const unk = model.unk_id;
    if (unk != null && (!isId(unk) || unk >= model.vocab.length))
      fail('vocab', 'model.unk_id', `${JSON.stringify(unk)} is not an id of the vocab`);
    if (model.vocab.length === 0) fail('vocab', 'model.vocab', 'is empty');
    return ids;
  }
  if (!isObject(model.vocab)) fail('vocab', 'model.vocab', 'is not an object of token → id');
  for (const [token, id] of Object.entries(model.vocab))
    add(token, id, `model.vocab[${JSON.stringify(token)}]`);
  const unk = model.unk_token;
  if (
    type === 'WordPiece'
      ? typeof unk !== 'string' || !ids.has(unk)
      : unk != null && (typeof unk !== 'string' || !ids.has(unk))
  )
    fail('vocab', 'model.unk_token', `${JSON.stringify(unk)} is not a token of the vocab`);
  if (type === 'BPE') checkMerges(model, ids);
  return ids;
}

/** Each merge is two vocab tokens whose join is a vocab token, as tokenizers' BPE builder checks. */
function checkMerges(model: Json, ids: Map<string, number>) {
  if (!Array.isArray(model.merges)) fail('vocab', 'model.merges', 'is not a list');
  const prefix = model.continuing_subword_prefix;
  const cut = typeof prefix === 'string' ? prefix.length : 0;
  model.merges.forEach((m: unknown, i) => {
    const pair = typeof m === 'string' ? m.split(' ') : m;
    const ok =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every((s) => typeof s === 'string' && s !== '');
    if (!ok) fail('vocab', `model.merges[${i}]`, 'is not a pair of tokens ("a b" or ["a", "b"])');
    const [a, b] = pair as [string, string];
    const joined = a + (cut && b.startsWith(prefix as string) ? b.slice(cut) : b);
    for (const t of [a, b, joined])
      if (!ids.has(t))
        fail('vocab', `model.merges[${i}]`, `${JSON.stringify(t)} is not in the vocab`);
  });
}

interface Added {
  id: number;
  content: string;
  special: boolean;
}

function checkAddedTokens(list: unknown, vocab: Map<string, number>): Added[] {
  if (list == null) return [];
  if (!Array.isArray(list)) fail('vocab', 'added_tokens', 'is not a list');
  const byId = new Map<number, string>();
  for (const [t, id] of vocab) byId.set(id, t);
  const seen = new Set<number>();
  const contents = new Set<string>();
  return list.map((a: unknown, i) => {
    const f = `added_tokens[${i}]`;
    if (!isObject(a)) return fail('vocab', f, 'is not an object');
    if (!isId(a.id)) fail('vocab', `${f}.id`, `${JSON.stringify(a.id)} is not a valid id`);
    if (typeof a.content !== 'string' || a.content === '')
      fail('vocab', `${f}.content`, 'is not a non-empty string');
    if (seen.has(a.id)) fail('vocab', `${f}.id`, `id ${a.id} is added twice`);
    const clash = byId.get(a.id);
    if (clash !== undefined && clash !== a.content)
      fail(
        'vocab',
        `${f}.id`,
        `id ${a.id} is ${JSON.stringify(clash)} in the vocab, not ${JSON.stringify(a.content)}`,
      );
    const other = vocab.get(a.content);
    if (other !== undefined && other !== a.id)
      fail(
        'vocab',
        `${f}.content`,
        `${JSON.stringify(a.content)} is id ${other} in the vocab, not ${a.id}`,
      );
    for (const flag of ['special', 'normalized', 'lstrip', 'rstrip', 'single_word'])
      if (a[flag] != null && typeof a[flag] !== 'boolean')
        fail('vocab', `${f}.${flag}`, 'is not a boolean');
    if (contents.has(a.content))
      fail('vocab', `${f}.content`, `${JSON.stringify(a.content)} is added twice`);
    seen.add(a.id);
    contents.add(a.content);
    return { id: a.id, content: a.content, special: a.special === true };
  });
}

/** A special token in tokenizer_config.json: a string, an AddedToken object, or null. */
function configToken(config: Json, key: string): string | null {
  const v = config[key];
  if (v == null) return null;
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return fail('special-token', key, 'is not a token string or {"content": ...}', TC);
}

/**
 * Builds a tokenizer from the parsed tokenizer.json and (optionally) tokenizer_config.json.
 * Throws TokenizerError, naming file and field, for anything malformed or unsupported.
 */
export function loadTokenizer(tokenizerJson: unknown, tokenizerConfig?: unknown): HfTokenizer {
  if (!isObject(tokenizerJson)) fail('json', '', 'is not a JSON object');
  if (tokenizerConfig !== undefined && tokenizerConfig !== null && !isObject(tokenizerConfig))
    fail('json', '', 'is not a JSON object', TC);
  const config: Json = tokenizerConfig ?? {};
  if (!isObject(tokenizerJson.model)) fail('json', 'model', 'is missing or not an object');
  for (const part of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    const p = tokenizerJson[part];
    if (p != null && (!isObject(p) || typeof p.type !== 'string'))
      fail('json', part, 'is neither null nor an object with a string "type"');
  }
  const vocab = checkModel(tokenizerJson.model);
  // Unigram without unk_id fails on an unknown piece, as tokenizers does ("unk_id is missing");
  // BPE without unk_token drops the piece, as tokenizers does, so ids stay identical to it.
  const unkField =
    modelType(tokenizerJson.model) === 'Unigram' ? 'model.unk_id' : 'model.unk_token';
  const added = checkAddedTokens(tokenizerJson.added_tokens, vocab);

  const names = {
    bos: configToken(config, 'bos_token'),
    eos: configToken(config, 'eos_token'),
    pad: configToken(config, 'pad_token'),
    unk: configToken(config, 'unk_token'),
  };
  const extra = config.additional_special_tokens;
  const additional = Array.isArray(extra)
    ? extra.map((t, i) => {
        const c = typeof t === 'string' ? t : isObject(t) ? t.content : undefined;
        return typeof c === 'string'
          ? c
          : fail('special-token', `additional_special_tokens[${i}]`, 'is not a token', TC);
      })
    : [];
  const clean = config.clean_up_tokenization_spaces;
  // Only checked fields reach the library; its default clean-up (true) is not transformers' (v5: false).
  const libConfig = {
    clean_up_tokenization_spaces: typeof clean === 'boolean' ? clean : false,
    additional_special_tokens: additional,
    eos_token: names.eos ?? undefined,
    remove_space: config.remove_space === true,
    do_lowercase_and_remove_accent: config.do_lowercase_and_remove_accent === true,
  };
  let lib: Tokenizer;
  try {
    lib = new Tokenizer(
      { ...tokenizerJson, added_tokens: tokenizerJson.added_tokens ?? [] },
      libConfig,
    );
  } catch (e) {
    const m = /Unknown (Normalizer|PreTokenizer|PostProcessor|Decoder) type/.exec(String(e));
    const field = m
      ? {
          Normalizer: 'normalizer',
          PreTokenizer: 'pre_tokenizer',
          PostProcessor: 'post_processor',
          Decoder: 'decoder',
        }[m[1] as 'Decoder']
      : '';
    throw new TokenizerError(
      'unsupported',
      TJ,
      field,
      `cannot build the tokenizer: ${(e as Error).message}`,
      { cause: e },
    );
  }

  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  for (const a of added) vocabSize = Math.max(vocabSize, a.id + 1);
  const idOf = (key: keyof typeof names): number | null => {
    const t = names[key];
    if (t === null) return null;
    const id = lib.token_to_id(t);
    return (
      id ??
      fail('special-token', `${key}_token`, `${JSON.stringify(t)} is not in tokenizer.json`, TC)
    );
  };
  const specialTokenIds = new Set<number>(added.filter((a) => a.special).map((a) => a.id));
  for (const t of additional) {
    const id = lib.token_to_id(t);
    if (id === undefined)
      fail(
        'special-token',
        'additional_special_tokens',
        `${JSON.stringify(t)} is not in tokenizer.json`,
        TC,
      );
    specialTokenIds.add(id);
  }

  const tokenizer: HfTokenizer = {
    vocabSize,
    bosTokenId: idOf('bos'),
    eosTokenId: idOf('eos'),
    padTokenId: idOf('pad'),
    unkTokenId: idOf('unk'),
    specialTokenIds,
    encode(text, options) {
      if (typeof text !== 'string') fail('encode', '', 'text is not a string');
      let ids: (number | undefined)[];
      try {
        ids = lib.encode(text, { add_special_tokens: options?.addSpecialTokens ?? true }).ids;
      } catch (e) {
        throw new TokenizerError('encode', TJ, '', `the pipeline failed: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const bad = ids.findIndex((id) => !isId(id) || id >= vocabSize);
      if (bad >= 0)
        fail('encode', unkField, `piece ${bad} of the text is not in the vocab, which has no unk`);
      return ids as number[];
    },
    decode(ids, options) {
      const list = Array.from(ids);
      const bad = list.findIndex(
        (id) => !isId(id) || id >= vocabSize || lib.id_to_token(id) === undefined,
      );
      if (bad >= 0)
        fail('decode', '', `id ${list[bad]} (at ${bad}) is not a token of this vocabulary`);
      if (list.length === 0) return '';
      try {
        return lib.decode(list, {
          skip_special_tokens: options?.skipSpecialTokens ?? false,
          clean_up_tokenization_spaces:
            options?.cleanUpTokenizationSpaces ?? libConfig.clean_up_tokenization_spaces,
        });
      } catch (e) {
        throw new TokenizerError(
          'decode',
          TJ,
          'decoder',
          `the decoder failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
    encodeBatch(texts, options) {
      const pad = options.padTokenId ?? tokenizer.padTokenId;
      if (pad === null || !isId(pad) || pad >= vocabSize)
        fail(
          'padding',
          'pad_token',
          `cannot pad a batch with ${pad === null ? 'no pad token' : `id ${pad}`}`,
          TC,
        );
      const rows = texts.map((t) => tokenizer.encode(t, options));
      const length = Math.max(0, ...rows.map((r) => r.length));
      const batch: Batch = { ids: [], attentionMask: [] };
      for (const r of rows) {
        const fill = new Array<number>(length - r.length).fill(pad);
        const zeros = new Array<number>(length - r.length).fill(0);
        const ones = new Array<number>(r.length).fill(1);
        batch.ids.push(options.side === 'left' ? [...fill, ...r] : [...r, ...fill]);
        batch.attentionMask.push(
          options.side === 'left' ? [...zeros, ...ones] : [...ones, ...zeros],
        );
      }
      return batch;
    },
    tokenToId: (token) => lib.token_to_id(token),
    idToToken: (id) => (isId(id) ? lib.id_to_token(id) : undefined),
  };
  // Ids the vocabulary lacks are the encode error of the text that has them, not a load error.
  let probe: (number | undefined)[];
  try {
    probe = lib.encode(LOAD_PROBE, { add_special_tokens: true }).ids;
  } catch (e) {
    throw new TokenizerError(
      'unsupported',
      TJ,
      '',
      `the pipeline cannot run: ${(e as Error).message}`,
      { cause: e },
    );
  }
  tokenizer.decode(probe.filter(isId));
  return tokenizer;
}
