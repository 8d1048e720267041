// A loaded model: a checked checkpoint with its tokenizer and chat template (`loadHfModel`),
// and what it is (ModelInfo). The runtime over it on an engine is session.ts.

import { type Checkpoint, loadCheckpoint } from './checkpoint';
import { parseJsonObject } from './config';
import { CheckpointError } from './errors';
import type { CheckpointFiles } from './files';
import type { ModelInfo } from './runtime-types';
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
