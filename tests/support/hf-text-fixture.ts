// Tokenizer files for the tiny checkpoints of tests/support/hf-checkpoints.ts (vocab 64): a
// character-level BPE with <s> prepended by its post-processor and a one-line chat template
// (decoders, GPT-2), and a BERT WordPiece whose words are spelt letter by letter ([CLS] … [SEP]).
// Written here, in tokenizer.json's format, so that text requests run on those checkpoints.

import { type HfFixtureKind, hfCheckpointFiles } from './hf-checkpoints';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const added = (tokens: string[]) =>
  tokens.map((content, id) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

/** The characters of the char-level tokenizer, ids 3… in this order. */
export const CHARS = "abcdefghijklmnopqrstuvwxyz ,.!?'\n:";

/** A one-line chat template: "role: content\n" per message, then "assistant:". */
export const CHAT_TEMPLATE =
  "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}" +
  '{% if add_generation_prompt %}assistant:{% endif %}';

function charLevel(): unknown {
  return {
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
      unk_token: '<unk>',
      vocab: Object.fromEntries([
        ['<unk>', 0],
        ['<s>', 1],
        ['</s>', 2],
        ...[...CHARS].map((c, i) => [c, i + 3]),
      ]),
      merges: [],
    },
  };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function wordPiece(): unknown {
  return {
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
      vocab: Object.fromEntries([
        ...['[PAD]', '[UNK]', '[CLS]', '[SEP]'].map((t, i) => [t, i]),
        ...[...LETTERS].map((c, i) => [c, 4 + i]),
        ...[...LETTERS].map((c, i) => [`##${c}`, 30 + i]),
      ]),
    },
  };
}

/** A fixture checkpoint's files with a tokenizer (and, for generators, a chat template). */
export function textCheckpointFiles(
  kind: HfFixtureKind,
  opts: { dtype?: 'F32' | 'F16' | 'BF16'; seed?: number; config?: Record<string, unknown> } = {},
): Map<string, Uint8Array> {
  const files = hfCheckpointFiles({ kind, ...opts });
  if (kind === 'bert') {
    files.set('tokenizer.json', json(wordPiece()));
    files.set(
      'tokenizer_config.json',
      json({ pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]' }),
    );
  } else {
    files.set('tokenizer.json', json(charLevel()));
    files.set(
      'tokenizer_config.json',
      json({
        bos_token: '<s>',
        eos_token: '</s>',
        unk_token: '<unk>',
        chat_template: CHAT_TEMPLATE,
      }),
    );
  }
  return files;
}

/** The same as a CheckpointFileMap (the Worker API's argument). */
export function textCheckpointObject(
  kind: HfFixtureKind,
  opts: Parameters<typeof textCheckpointFiles>[1] = {},
): Record<string, Uint8Array> {
  return Object.fromEntries(textCheckpointFiles(kind, opts));
}
