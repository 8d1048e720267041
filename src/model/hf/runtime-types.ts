// The requests and answers of the runtime over a loaded Hugging Face checkpoint (session.ts):
// what the Worker's API (src/worker/api.ts) takes and returns, defined here so that src/model
// needs nothing from src/worker.

import type { ChatMessage } from './chat-template';
import type { HfFamily } from './types';

export type { ChatMessage };

/** A checkpoint folder's files by path inside the folder: 'config.json', 'model.safetensors',
 * 'model-00001-of-00002.safetensors', 'tokenizer.json', '1_Pooling/config.json', ... */
export type CheckpointFileMap = Record<string, Uint8Array>;

/** What a loaded model is, for a person and for a job's owner. */
export interface ModelInfo {
  /** The checkpoint's content digest (checkpoint.ts digestFiles), hex. */
  digest: string;
  family: HfFamily;
  /** config.json's architectures[0], else its model_type. */
  architecture: string;
  /** Decoders and GPT-2 generate (and score); BERT embeds. */
  task: 'generate' | 'embed';
  /** Rows of the embedding table: token ids are below it. */
  vocab: number;
  /** Longest sequence the model takes, tokens (an embedder: what it embeds before truncating). */
  maxPositions: number;
  /** Embedding width, floats (embed's vectors have this length). */
  hiddenSize: number;
  /** Parameters (a tied head counted once). */
  params: number;
  /** Bytes of the weights as stored (16-bit stays 16-bit). */
  weightBytes: number;
  /** tokenizer_config.json or chat_template.jinja has a chat template. */
  chatTemplate: boolean;
  /** Tokens that end a generation: generation_config.json's eos_token_id, else config.json's. */
  eosTokenIds: number[];
}

/** Exactly one of `prompts`, `chats` or `tokens`; one Generation per entry, in order. */
export interface GenerateRequest {
  /** Plain text prompts, tokenized with the tokenizer's special tokens (BOS where it adds one). */
  prompts?: string[];
  /** Conversations, rendered through the model's chat template with the generation prompt. */
  chats?: ChatMessage[][];
  /** Token ids, as they are. */
  tokens?: number[][];
  /** Most tokens generated per sequence; default generation_config's max_new_tokens, else
   * DEFAULT_MAX_NEW_TOKENS; never past the model's positions. */
  maxNewTokens?: number;
  /** 0: greedy. Default: generation_config's temperature when do_sample, else 0. */
  temperature?: number;
  /** Top-k cut (0: none); default generation_config's top_k (transformers' default 50). */
  topK?: number;
  /** Nucleus cut in (0, 1] (1: none); default generation_config's top_p. */
  topP?: number;
  /** Sequence i draws with a generator seeded by seed + i (mod 2³²); default a random seed. */
  seed?: number;
  /** Stop strings besides the eos tokens: a sequence ends once its generated text holds one. */
  stop?: string[];
}

export interface Generation {
  /** The generated ids, the eos token or the one completing a stop string included. */
  tokens: number[];
  /** `tokens` decoded with special tokens skipped ('' when the model has no tokenizer). */
  text: string;
  /** 'stop': an eos token or stop string ended it; 'length': maxNewTokens or the positions did. */
  finishReason: 'stop' | 'length';
  /** Tokens of the prompt as the model saw it. */
  promptTokens: number;
}

/** Exactly one of `texts` or `tokens`. */
export interface EmbedRequest {
  texts?: string[];
  tokens?: number[][];
  /** true (default): cut inputs to the model's maxPositions (a text keeps its closing special
   * tokens, as the tokenizer's truncation does); false: refuse longer input (RequestError
   * 'too-long'). */
  truncate?: boolean;
}

/** Exactly one of `texts` (tokenized with the tokenizer's special tokens) or `tokens`. */
export interface ScoreRequest {
  texts?: string[];
  tokens?: number[][];
}

export interface TokenScores {
  tokens: number[];
  /** tokens.length − 1 values: log p(tokens[i] | tokens[<i]) for i ≥ 1, natural log. */
  logprobs: Float32Array;
  /** The sum of logprobs. */
  total: number;
}

/** The mesh's low-level generation (generate.ts `generateTokens`; draws as src/model/sample.ts). */
export interface GenerateOptions {
  /** New tokens per sequence. */
  steps: number;
  /** 0: greedy. */
  temperature: number;
  /** One per sequence when sampling. */
  seeds: Uint32Array;
}

/** A checkpoint resident on an engine: CpuHfModel (run-cpu.ts) or GpuHfModel (run-gpu.ts). */
export interface HfRunner {
  /** Opens a batch of ragged prompts with cache room for `maxNewTokens` more tokens each;
   * returns each one's next-token logits (vocab floats). */
  start(batch: number[][], maxNewTokens: number): Promise<Float32Array[]>;
  /** One token per sequence of the open batch; returns the next logits of each. */
  step(next: number[]): Promise<Float32Array[]>;
  /** Logits after every token from `from` on: (length − from) × vocab floats per sequence. */
  logits(batch: number[][], from?: number): Promise<Float32Array[]>;
  /** Pooled embeddings (BERT), one per sequence. */
  embed(batch: number[][], tokenTypes?: number[][]): Promise<Float32Array[]>;
  dispose(): void | Promise<void>;
}

/** Most logits one chunk of a runner's LM head computes at once (floats; 64 MiB): a score of
 * long sequences over a large vocabulary goes through the head a chunk of rows at a time. */
export const HEAD_CHUNK_FLOATS = 16 * 1024 * 1024;

/** Tokens generated when neither the request nor generation_config.json says. */
export const DEFAULT_MAX_NEW_TOKENS = 256;
/** Most sequences one request may hold. */
export const MAX_REQUEST_SEQUENCES = 4096;
/** Sequences the engine runs together: a generate batch (its KV cache), an embed or score batch. */
export const GENERATE_BATCH = 32;
export const EMBED_BATCH = 32;
export const SCORE_BATCH = 8;
/** Most stop strings, and characters in one. */
export const MAX_STOP_STRINGS = 16;
export const MAX_STOP_LENGTH = 256;

/** A chunk of a data set's texts to turn into token rows (a job's rows); callers batch. */
export interface TokenizeRequest {
  /** 1..MAX_TOKENIZE_TEXTS texts, each with at least one token of its own. */
  texts: string[];
  /** Most tokens a row may have, special tokens included; an integer in [1, maxPositions],
   * default the model's maxPositions. */
  maxTokens?: number;
  /** 'truncate' (default): cut a longer row as the tokenizer's truncation does (an encoder's
   * row keeps its [CLS] … [SEP]; a decoder's keeps its first maxTokens ids) and list it in
   * `truncated`; 'refuse': RequestError 'too-long' naming the row and its token count. */
  overLong?: 'truncate' | 'refuse';
  /** Render each text as one user message through the chat template, generation prompt on (as
   * GenerateRequest.chats); RequestError when the model has none. Default false. */
  chat?: boolean;
}

export interface TokenizedRows {
  /** One row of token ids per text, in order, never empty. */
  rows: Uint32Array[];
  /** Indices of the rows that were cut to maxTokens, ascending. */
  truncated: number[];
}

export interface DetokenizeOptions {
  /** Drop the special tokens ([CLS], <s>, eos ...); default true. */
  skipSpecialTokens?: boolean;
}

/** Most texts one tokenize call takes, and most rows one detokenize call decodes. */
export const MAX_TOKENIZE_TEXTS = 4_096;
