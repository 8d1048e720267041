// Tokenizer files for the tiny checkpoints of tests/support/hf-checkpoints.ts (vocab 64): a
// character-level BPE with <s> prepended by its post-processor and a one-line chat template
// (decoders, GPT-2), and a BERT WordPiece whose words are spelt letter by letter ([CLS] … [SEP]).
// Written here, in tokenizer.json's format, so that text requests run on those checkpoints.

import { type HfFixtureKind, hfCheckpointFiles } from './hf-checkpoints';
import { bertWordPiece, charBpe } from './tokenizer-json';

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** The characters of the char-level tokenizer, ids 3… in this order. */
export const CHARS = "abcdefghijklmnopqrstuvwxyz ,.!?'\n:";

/** A one-line chat template: "role: content\n" per message, then "assistant:". */
export const CHAT_TEMPLATE =
  "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}" +
  '{% if add_generation_prompt %}assistant:{% endif %}';

const charLevel = () => charBpe([...CHARS]);

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Letters (ids 4…) and their continuations (##a…, ids 30…): every word spelt letter by letter. */
const wordPiece = () => bertWordPiece([...LETTERS, ...[...LETTERS].map((c) => `##${c}`)]);

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
