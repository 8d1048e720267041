// Small tokenizer.json builders, in the format's own terms, shared by the tests that need a
// tokenizer for a tiny checkpoint (tests/support/hf-text-fixture.ts, tests/e2e/try-model.spec.ts)
// and the tokenizer's own tests (tests/support/small-tokenizers.ts).

/** Special tokens as tokenizer.json's `added_tokens` lists them, ids 0… in order. */
export const addedTokens = (names: string[]) =>
  names.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

/**
 * A character-level BPE (no merges, Fuse decoder): <unk>, <s>, </s> at ids 0–2, `chars` from
 * id 3 in order, and <s> prepended by its post-processor. `unk` null: an unknown character is
 * dropped rather than mapped to <unk>.
 */
export function charBpe(chars: readonly string[], unk: string | null = '<unk>') {
  return {
    version: '1.0',
    added_tokens: addedTokens(['<unk>', '<s>', '</s>']),
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
        ...chars.map((c, i) => [c, i + 3]),
      ]),
      merges: [],
    },
  };
}

/** BERT's WordPiece pipeline ([CLS] A [SEP], lowercasing) over `words`, after [PAD], [UNK],
 * [CLS] and [SEP] at ids 0–3; a word's id is its index in the list plus 4. */
export function bertWordPiece(words: readonly string[]) {
  return {
    version: '1.0',
    added_tokens: addedTokens(['[PAD]', '[UNK]', '[CLS]', '[SEP]']),
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
      vocab: Object.fromEntries(
        ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...words].map((w, i) => [w, i]),
      ),
    },
  };
}
