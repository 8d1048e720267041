// Small tokenizer.json files written here, in the format's own terms, for the tokenizer's
// tests (tests/unit/model/hf-tokenizer.test.ts): a character-level BPE, a WordPiece and a
// Unigram, with or without an unknown token.
import type { Json } from './real-tokenizers';

// The ids were checked with Python tokenizers 0.23.2.
const added = (names: string[]) =>
  names.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
const CHARS = "abcdefghijklmnopqrstuvwxyz ,.!?'\n";
export const charLevel = (unk: string | null): Json => ({
  version: '1.0',
  added_tokens: added(['<unk>', '<s>', '</s>']),
  normalizer: null,
  pre_tokenizer: null,
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<s>', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
  },
  decoder: { type: 'Fuse' },
  model: {
    type: 'BPE',
    unk_token: unk,
    vocab: Object.fromEntries([
      ['<unk>', 0],
      ['<s>', 1],
      ['</s>', 2],
      ...[...CHARS].map((c, i) => [c, i + 3]),
    ]),
    merges: [],
  },
});
export const wordPiece = (): Json => ({
  version: '1.0',
  added_tokens: added(['[PAD]', '[UNK]', '[CLS]', '[SEP]']),
  normalizer: {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase: true,
  },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [
      { SpecialToken: { id: '[CLS]', type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '[SEP]', type_id: 0 } },
    ],
    pair: [],
    special_tokens: {
      '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
    },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: {
    type: 'WordPiece',
    unk_token: '[UNK]',
    continuing_subword_prefix: '##',
    max_input_chars_per_word: 100,
    vocab: {
      '[PAD]': 0,
      '[UNK]': 1,
      '[CLS]': 2,
      '[SEP]': 3,
      hello: 4,
      world: 5,
      '##s': 6,
      '!': 7,
      token: 8,
      '##ize': 9,
      '##r': 10,
      the: 11,
    },
  },
});

export const unigram = (unk: number | null): Json => ({
  version: '1.0',
  added_tokens: unk === null ? [] : added(['<unk>']),
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
