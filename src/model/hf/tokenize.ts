// Texts to token rows and back with a loaded model's tokenizer (model.ts), for the mesh's data-set
// jobs: a researcher's texts become rows of ids (cut or refused at the model's length, never
// silently), and generated rows become text. Tokenizing needs no engine: no weights are touched.

import { type ChatMessage, chatRenderer } from './chat-template';
import { CheckpointError } from './errors';
import type { HfModel } from './model';
import { RequestError } from './request-error';
import {
  type DetokenizeOptions,
  MAX_TOKENIZE_TEXTS,
  type TokenizedRows,
  type TokenizeRequest,
} from './runtime-types';
import type { HfTokenizer } from './tokenizer';

/** The model's tokenizer, or the CheckpointError of a folder without tokenizer.json. */
export function requireTokenizer(model: HfModel, what: string): HfTokenizer {
  if (!model.tokenizer) {
    throw new CheckpointError('missing-file', 'tokenizer.json', '', `${what} need a tokenizer`);
  }
  return model.tokenizer;
}

/** The model's chat template, parsed once, rendering with the generation prompt. */
export function chatPrompts(model: HfModel): (chat: readonly ChatMessage[]) => string {
  return chatRenderer(model.tokenizerConfig, {
    addGenerationPrompt: true,
    ...(model.chatTemplate !== undefined ? { chatTemplate: model.chatTemplate } : {}),
  });
}

/**
 * A text's ids cut to `L` as the tokenizer's truncation cuts them: the text's own tokens are
 * cut, the special tokens the post-processor puts around them ([CLS] … [SEP]) are kept.
 */
export function truncateText(tokenizer: HfTokenizer, text: string, L: number): number[] {
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

/** One row of ids per text (see TokenizeRequest): checked, and cut or refused at maxTokens. */
export function tokenizeTexts(model: HfModel, request: TokenizeRequest): TokenizedRows {
  const { info } = model;
  const tokenizer = requireTokenizer(model, 'texts');
  const r = request ?? ({} as TokenizeRequest);
  const { texts } = r;
  if (!Array.isArray(texts) || texts.length === 0 || texts.length > MAX_TOKENIZE_TEXTS) {
    throw new RequestError(
      'invalid-request',
      `texts must be a list of 1..${MAX_TOKENIZE_TEXTS} strings`,
    );
  }
  const L = r.maxTokens ?? info.maxPositions;
  if (!(Number.isSafeInteger(L) && L >= 1 && L <= info.maxPositions)) {
    throw new RequestError(
      'invalid-request',
      `maxTokens ${L} is not an integer in [1, ${info.maxPositions}]`,
    );
  }
  const overLong = r.overLong ?? 'truncate';
  if (overLong !== 'truncate' && overLong !== 'refuse') {
    throw new RequestError('invalid-request', "overLong must be 'truncate' or 'refuse'");
  }
  const chat = r.chat ?? false;
  if (typeof chat !== 'boolean')
    throw new RequestError('invalid-request', 'chat must be a boolean');
  if (chat && !info.chatTemplate) {
    throw new RequestError('invalid-request', 'chat: the model has no chat template');
  }
  // The special tokens the post-processor puts around every text ([CLS] [SEP], <s>): a text
  // whose row is no longer than that has no tokens of its own.
  const specials = chat ? 0 : tokenizer.encode('').length;
  const render = chat ? chatPrompts(model) : undefined;
  const encoder = info.task === 'embed';
  const rows: Uint32Array[] = [];
  const truncated: number[] = [];
  for (const [i, text] of texts.entries()) {
    if (typeof text !== 'string') {
      throw new RequestError('invalid-request', `texts[${i}] is not a string`);
    }
    const ids = render
      ? tokenizer.encode(render([{ role: 'user', content: text }]), { addSpecialTokens: false })
      : tokenizer.encode(text);
    const own = chat
      ? tokenizer.encode(text, { addSpecialTokens: false }).length
      : ids.length - specials;
    if (own <= 0 || ids.length === 0) {
      throw new RequestError('invalid-request', `texts[${i}] has no tokens`);
    }
    if (ids.length <= L) {
      rows.push(Uint32Array.from(ids));
      continue;
    }
    if (overLong === 'refuse') {
      throw new RequestError(
        'too-long',
        `texts[${i}] has ${ids.length} tokens; at most ${L} are allowed`,
      );
    }
    // A chat row has no post-processor's tokens to keep: it is cut as a decoder's is.
    rows.push(
      Uint32Array.from(encoder && !chat ? truncateText(tokenizer, text, L) : ids.slice(0, L)),
    );
    truncated.push(i);
  }
  return { rows, truncated };
}

/**
 * Each row decoded to text. Ids below the model's vocabulary that the tokenizer has no token for
 * (a vocabulary padded for the kernels) decode to nothing, as transformers' fast tokenizers skip
 * them; an id at or past the vocabulary is a RequestError.
 */
export function detokenizeRows(
  model: HfModel,
  rows: Uint32Array[],
  options?: DetokenizeOptions,
): string[] {
  const tokenizer = requireTokenizer(model, 'rows');
  const { vocab } = model.info;
  if (!Array.isArray(rows) || rows.length > MAX_TOKENIZE_TEXTS) {
    throw new RequestError(
      'invalid-request',
      `rows must be a list of at most ${MAX_TOKENIZE_TEXTS} Uint32Arrays`,
    );
  }
  const skip = options?.skipSpecialTokens ?? true;
  if (typeof skip !== 'boolean') {
    throw new RequestError('invalid-request', 'skipSpecialTokens must be a boolean');
  }
  return rows.map((row, i) => {
    if (!(row instanceof Uint32Array)) {
      throw new RequestError('invalid-request', `rows[${i}] is not a Uint32Array`);
    }
    const bad = row.findIndex((id) => id >= vocab);
    if (bad >= 0) {
      throw new RequestError(
        'invalid-request',
        `rows[${i}][${bad}] = ${row[bad]} is outside the vocabulary of ${vocab}`,
      );
    }
    const known = Array.from(row).filter((id) => tokenizer.idToToken(id) !== undefined);
    return tokenizer.decode(known, { skipSpecialTokens: skip });
  });
}
