// Small tokenizer.json files written here, in the format's own terms, for the tokenizer's
// tests (tests/unit/model/hf-tokenizer.test.ts): a character-level BPE, a WordPiece and a
// Unigram, with or without an unknown token.
import type { Json } from './real-tokenizers';
import { addedTokens, bertWordPiece, charBpe } from './tokenizer-json';

// The ids were checked with Python tokenizers 0.23.2.
const CHARS = "abcdefghijklmnopqrstuvwxyz ,.!?'\n";
export const charLevel = (unk: string | null): Json => charBpe([...CHARS], unk);
// hello world ##s ! token ##ize ##r the: ids 4…11.
export const wordPiece = (): Json =>
  bertWordPiece(['hello', 'world', '##s', '!', 'token', '##ize', '##r', 'the']);

export const unigram = (unk: number | null): Json => ({
  version: '1.0',
  added_tokens: unk === null ? [] : addedTokens(['<unk>']),
  normalizer: null,
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  post_processor: null,
  decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  model: {
    type: 'Unigram',
    unk_id: unk,
    byte_fallback: false,
    vocab: [
      ['<unk>', 0],
      ['▁', -2],
      ['a', -3],
      ['b', -3],
      ['ab', -2.5],
      ['▁ab', -1],
      ['▁a', -2],
      ['c', -4],
    ],
  },
});
