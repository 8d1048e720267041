// Texts to token rows and back (src/model/hf/tokenize.ts) on the tiny fixture checkpoints with the
// tokenizers of hf-text-fixture.ts: BERT's WordPiece ([CLS] … [SEP], a word spelt letter by letter,
// 40 positions) and the decoders' character-level BPE (<s> first, 128 positions, a chat template).
// Rows are compared with the tokenizer's own ids, so a wrong cut, a lost special token or a
// dropped row fails.

import { describe, expect, test } from 'vitest';
import { CheckpointError } from '../../../src/model/hf/errors';
import { filesFromMap } from '../../../src/model/hf/files';
import { type HfModel, loadHfModel } from '../../../src/model/hf/model';
import { RequestError } from '../../../src/model/hf/request-error';
import { MAX_TOKENIZE_TEXTS, type TokenizeRequest } from '../../../src/model/hf/runtime-types';
import { detokenizeRows, tokenizeTexts } from '../../../src/model/hf/tokenize';
import type { HfFixtureKind } from '../../support/hf-checkpoints';
import { textCheckpointFiles } from '../../support/hf-text-fixture';

function load(kind: HfFixtureKind, edit?: (files: Map<string, Uint8Array>) => void) {
  const files = textCheckpointFiles(kind);
  edit?.(files);
  return loadHfModel(filesFromMap(files));
}

const bert = await load('bert');
const llama = await load('llama');
const gpt2 = await load('gpt2');

/** The RequestError `fn` throws (failing the test when it throws nothing or something else). */
function requestError(fn: () => unknown): RequestError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RequestError);
    return e as RequestError;
  }
  return expect.fail('no error');
}

const ids = (model: HfModel, text: string, addSpecialTokens = true) =>
  model.tokenizer!.encode(text, { addSpecialTokens });

describe('tokenize', () => {
  test('rows are the tokenizer’s ids, one per text, in order', () => {
    const texts = ['hello world', 'the', 'a b c'];
    const out = tokenizeTexts(bert, { texts });
    expect(out.truncated).toEqual([]);
    expect(out.rows.map((r) => r.constructor)).toEqual([Uint32Array, Uint32Array, Uint32Array]);
    expect(out.rows.map((r) => Array.from(r))).toEqual(texts.map((t) => ids(bert, t)));
    // Each row on its own buffer: the Worker transfers them back one by one.
    expect(new Set(out.rows.map((r) => r.buffer)).size).toBe(3);
  });

  test('an encoder row cut to maxTokens keeps its [CLS] and [SEP]', () => {
    const tk = bert.tokenizer!;
    const [cls, sep] = [tk.tokenToId('[CLS]')!, tk.tokenToId('[SEP]')!];
    const long = 'abcdefghij klm';
    const out = tokenizeTexts(bert, { texts: ['ab', long, 'xyz'], maxTokens: 6 });
    expect(out.truncated).toEqual([1]);
    expect(Array.from(out.rows[1]!)).toEqual([cls, ...ids(bert, long, false).slice(0, 4), sep]);
    // Not the naive cut, which would lose [SEP].
    expect(Array.from(out.rows[1]!)).not.toEqual(ids(bert, long).slice(0, 6));
    expect(Array.from(out.rows[0]!)).toEqual(ids(bert, 'ab'));
    // By default rows are cut at the model's 40 positions.
    const word = 'abcdefghijklmnopqrstuvwxyz'.repeat(2);
    const cut = tokenizeTexts(bert, { texts: [word] });
    expect(cut.truncated).toEqual([0]);
    expect(cut.rows[0]).toHaveLength(bert.info.maxPositions);
    expect([cut.rows[0]![0], cut.rows[0]!.at(-1)]).toEqual([cls, sep]);
  });

  test('a decoder row cut to maxTokens keeps its first maxTokens ids', () => {
    for (const model of [llama, gpt2]) {
      const text = 'in the beginning';
      const full = ids(model, text); // <s> + one id per character
      expect(full).toHaveLength(17);
      const out = tokenizeTexts(model, { texts: ['and', text], maxTokens: 5 });
      expect(out.truncated).toEqual([1]);
      expect(Array.from(out.rows[1]!)).toEqual(full.slice(0, 5));
      expect(Array.from(out.rows[0]!)).toEqual(ids(model, 'and'));
      // A row exactly maxTokens long is not cut.
      expect(tokenizeTexts(model, { texts: [text], maxTokens: 17 }).truncated).toEqual([]);
    }
  });

  test('refuse: too-long names the row and its token count', () => {
    const e = requestError(() =>
      tokenizeTexts(llama, {
        texts: ['and', 'so', 'in the beginning'],
        maxTokens: 8,
        overLong: 'refuse',
      }),
    );
    expect(e.code).toBe('too-long');
    expect(e.message).toContain('texts[2]');
    expect(e.message).toContain('17 tokens');
    expect(e.message).toContain('8');
    // Rows that fit pass.
    const ok = tokenizeTexts(llama, { texts: ['and'], maxTokens: 8, overLong: 'refuse' });
    expect(Array.from(ok.rows[0]!)).toEqual(ids(llama, 'and'));
  });

  test('chat renders each text as a user message through the template, generation prompt on', () => {
    const out = tokenizeTexts(llama, { texts: ['hi', 'why?'], chat: true });
    expect(Array.from(out.rows[0]!)).toEqual(ids(llama, 'user: hi\nassistant:', false));
    expect(Array.from(out.rows[1]!)).toEqual(ids(llama, 'user: why?\nassistant:', false));
    // The template writes no BOS, and encode adds none on top of it.
    expect(out.rows[0]![0]).not.toBe(llama.tokenizer!.bosTokenId);
    // Cut as a decoder's row is.
    const cut = tokenizeTexts(llama, { texts: ['hi'], chat: true, maxTokens: 4 });
    expect(Array.from(cut.rows[0]!)).toEqual(ids(llama, 'user', false));
    expect(cut.truncated).toEqual([0]);
    // BERT has no chat template.
    const e = requestError(() => tokenizeTexts(bert, { texts: ['hi'], chat: true }));
    expect(e.code).toBe('invalid-request');
    expect(e.message).toContain('chat template');
  });

  test('a text with no tokens of its own, or no text, is refused by index', () => {
    for (const [model, texts] of [
      [llama, ['a', '']],
      [bert, ['a', '']], // '' would be [CLS] [SEP] alone
      [bert, ['a', '  \t ']], // BERT's pre-tokenizer drops the blanks
    ] as const) {
      const e = requestError(() => tokenizeTexts(model, { texts: [...texts] }));
      expect(e.code).toBe('invalid-request');
      expect(e.message).toContain('texts[1]');
    }
    const chat = requestError(() => tokenizeTexts(llama, { texts: [''], chat: true }));
    expect(chat.message).toContain('texts[0]');
    const e = requestError(() => tokenizeTexts(llama, { texts: ['a', 7 as never] }));
    expect(e.message).toContain('texts[1] is not a string');
  });

  test('bad requests are RequestError invalid-request', () => {
    const bad: [string, TokenizeRequest][] = [
      ['no texts', { texts: [] }],
      ['texts not a list', { texts: 'abc' as never }],
      ['too many texts', { texts: Array(MAX_TOKENIZE_TEXTS + 1).fill('a') }],
      ['maxTokens 0', { texts: ['a'], maxTokens: 0 }],
      ['maxTokens past the positions', { texts: ['a'], maxTokens: llama.info.maxPositions + 1 }],
      ['fractional maxTokens', { texts: ['a'], maxTokens: 2.5 }],
      ['maxTokens a string', { texts: ['a'], maxTokens: '5' as never }],
      ['another overLong', { texts: ['a'], overLong: 'cut' as never }],
      ['chat not a boolean', { texts: ['a'], chat: 'yes' as never }],
    ];
    for (const [what, request] of bad) {
      expect(requestError(() => tokenizeTexts(llama, request)).code, what).toBe('invalid-request');
    }
    expect(requestError(() => tokenizeTexts(llama, undefined as never)).code).toBe(
      'invalid-request',
    );
    // The limits themselves pass.
    const most = tokenizeTexts(llama, {
      texts: Array(MAX_TOKENIZE_TEXTS).fill('a'),
      maxTokens: llama.info.maxPositions,
    });
    expect(most.rows).toHaveLength(MAX_TOKENIZE_TEXTS);
    expect(tokenizeTexts(llama, { texts: ['and'], maxTokens: 1 }).rows[0]).toEqual(
      Uint32Array.of(llama.tokenizer!.bosTokenId!),
    );
  });

  test('a model without tokenizer.json: the CheckpointError the session gives', async () => {
    const bare = await load('llama', (f) => f.delete('tokenizer.json'));
    for (const fn of [
      () => tokenizeTexts(bare, { texts: ['a'] }),
      () => detokenizeRows(bare, [Uint32Array.of(3)]),
    ]) {
      try {
        fn();
        expect.fail('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        expect(e).toMatchObject({ code: 'missing-file', file: 'tokenizer.json' });
      }
    }
  });
});

describe('detokenize', () => {
  test('round-trips tokenized rows, special tokens skipped by default', () => {
    const texts = ['in the beginning', 'what? no, why!'];
    const { rows } = tokenizeTexts(llama, { texts });
    expect(detokenizeRows(llama, rows)).toEqual(texts);
    expect(detokenizeRows(llama, rows, { skipSpecialTokens: false })).toEqual(
      texts.map((t) => `<s>${t}`),
    );
    const words = ['hello world', 'the end'];
    expect(detokenizeRows(bert, tokenizeTexts(bert, { texts: words }).rows)).toEqual(words);
    expect(detokenizeRows(llama, [new Uint32Array(0)])).toEqual(['']);
    expect(detokenizeRows(llama, [])).toEqual([]);
  });

  test('ids the model has and the tokenizer does not decode to nothing (a padded vocabulary)', async () => {
    // The tokenizer knows ids < 3 + CHARS.length; the model's vocabulary is 64.
    const known = llama.tokenizer!.vocabSize;
    expect(known).toBeLessThan(llama.info.vocab);
    const row = Uint32Array.from([...ids(llama, 'ab'), known, llama.info.vocab - 1]);
    expect(detokenizeRows(llama, [row])).toEqual(['ab']);
  });

  test('ids outside the vocabulary, non-rows and too many rows are refused', () => {
    const V = llama.info.vocab;
    const e = requestError(() => detokenizeRows(llama, [Uint32Array.of(3), Uint32Array.of(4, V)]));
    expect(e.code).toBe('invalid-request');
    expect(e.message).toContain(`rows[1][1] = ${V}`);
    const bad: [string, () => unknown][] = [
      ['numbers, not a Uint32Array', () => detokenizeRows(llama, [[3, 4] as never])],
      ['not a list', () => detokenizeRows(llama, Uint32Array.of(3) as never)],
      [
        'too many rows',
        () => detokenizeRows(llama, Array(MAX_TOKENIZE_TEXTS + 1).fill(Uint32Array.of(3))),
      ],
      [
        'skipSpecialTokens not a boolean',
        () => detokenizeRows(llama, [], { skipSpecialTokens: 1 as never }),
      ],
    ];
    for (const [what, fn] of bad) expect(requestError(fn).code, what).toBe('invalid-request');
  });
});
