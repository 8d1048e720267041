/**
 * The Hugging Face tokenizer, on real files (Llama 3, Qwen 3) and on small tokenizer.json files
 * written here, inline beside the tests that read them (chat templates: hf-chat-template.test.ts).
 */
import { describe, expect, test } from 'vitest';
import { loadTokenizer } from '../../../src/model/hf/tokenizer';
import { mixedLines } from '../../fixtures/tokenizers/mixed-text';
import { type Json, llama3, qwen3, reference, thrown } from '../../support/real-tokenizers';
import { charLevel, unigram, wordPiece } from '../../support/small-tokenizers';

describe.each([
  // Qwen's normalizer is NFC, so its round trip gives the NFC form of the text (e + U+0301 → é).
  {
    name: 'Llama 3',
    t: llama3,
    ref: reference.llama3,
    skip: reference.llama3_skip_special,
    norm: (s: string) => s,
  },
  {
    name: 'Qwen 3',
    t: qwen3,
    ref: reference.qwen3,
    skip: reference.qwen3_skip_special,
    norm: (s: string) => s.normalize('NFC'),
  },
])('$name tokenizer.json', ({ t, ref, skip, norm }) => {
  const tk = t.tokenizer;

  test(`ids equal Python tokenizers ${reference.tokenizers_version}'s on 3,000 lines of mixed text`, () => {
    // The stored lines are the generator's: the comparison is over the text the test claims.
    expect(reference.lines).toEqual(mixedLines(3000));
    const ids = reference.lines.map((l) => tk.encode(l));
    const wrong = ids.flatMap((r, i) => (JSON.stringify(r) === JSON.stringify(ref[i]) ? [] : [i]));
    expect(wrong).toEqual([]);
    expect(ids.flat().length).toBeGreaterThan(70_000);
  });

  test('encode → decode gives the text back on the same lines', () => {
    const lines = reference.lines;
    const wrong = lines.filter(
      (l) =>
        tk.decode(tk.encode(l, { addSpecialTokens: false }), {
          cleanUpTokenizationSpaces: false,
        }) !== norm(l),
    );
    expect(wrong).toEqual([]);
    // The lines exercise what they claim to: NFC changes some of them.
    expect(lines.filter((l) => l !== l.normalize('NFC')).length).toBeGreaterThan(100);
  });

  test("decode with skipSpecialTokens equals Python's on the same ids", () => {
    // tokenizers (Rust) never cleans up spaces; transformers does where the config says (Llama 3).
    const opts = { skipSpecialTokens: true, cleanUpTokenizationSpaces: false };
    const wrong = ref.flatMap((ids, i) => (tk.decode(ids, opts) === skip[i] ? [] : [i]));
    expect(wrong).toEqual([]);
    expect(skip.filter((s, i) => s !== norm(reference.lines[i]!)).length).toBeGreaterThan(300);
  });

  test('known ids come from the vocab itself', () => {
    const vocab = t.json.model.vocab as Record<string, number>;
    expect(tk.encode('Hello')).toEqual([vocab.Hello]);
    expect(tk.encode('Hello world')).toEqual([vocab.Hello, vocab.Ġworld]); // Ġ: byte-level space
    expect(tk.encode(' 😀')).toEqual(tk.encode(' 😀', { addSpecialTokens: false }));
    expect(tk.tokenToId('Hello')).toBe(vocab.Hello);
    expect(tk.idToToken(vocab.Ġworld!)).toBe('Ġworld');
    expect(tk.encode('')).toEqual([]);
    expect(tk.decode([])).toBe('');
  });

  test('vocab size counts the added tokens', () => {
    const last = Math.max(...t.json.added_tokens.map((a: Json) => a.id));
    expect(tk.vocabSize).toBe(last + 1);
  });
});

describe('special and added tokens', () => {
  test('Llama 3: bos/eos from tokenizer_config.json, no pad, special tokens split the text', () => {
    const tk = llama3.tokenizer;
    expect([tk.vocabSize, tk.bosTokenId, tk.eosTokenId, tk.padTokenId]).toEqual([
      128256,
      128000,
      128001,
      null,
    ]);
    const eot = tk.tokenToId('<|eot_id|>')!;
    expect(eot).toBe(128009);
    const ids = tk.encode('<|begin_of_text|>Hi there<|eot_id|>');
    expect(ids).toEqual([128000, ...tk.encode('Hi there'), eot]);
    expect(tk.decode(ids)).toBe('<|begin_of_text|>Hi there<|eot_id|>');
    expect(tk.decode(ids, { skipSpecialTokens: true })).toBe('Hi there');
    expect(tk.specialTokenIds.has(eot)).toBe(true);
  });

  test('Qwen 3: no bos, eos <|im_end|>, pad <|endoftext|>; non-special added tokens stay on skip', () => {
    const tk = qwen3.tokenizer;
    expect([tk.vocabSize, tk.bosTokenId, tk.eosTokenId, tk.padTokenId]).toEqual([
      151669,
      null,
      151645,
      151643,
    ]);
    const ids = tk.encode('<|im_start|>user\nHi<|im_end|>');
    expect(ids).toEqual([151644, ...tk.encode('user\nHi'), 151645]);
    expect(tk.decode(ids, { skipSpecialTokens: true })).toBe('user\nHi');
    // <think> is an added token that is not special (Qwen 3's tokenizer.json says so).
    const think = tk.tokenToId('<think>')!;
    expect(think).toBe(151667);
    const withThink = tk.encode('a<think>b');
    expect(withThink).toEqual([...tk.encode('a'), think, ...tk.encode('b')]);
    expect(tk.decode(withThink, { skipSpecialTokens: true })).toBe('a<think>b');
    expect(tk.specialTokenIds.has(think)).toBe(false);
  });
});

describe('clean_up_tokenization_spaces, as transformers applies it from tokenizer_config.json', () => {
  test('Llama 3 says true: " ," and " n\'t" lose their space on decode; Qwen 3 says false', () => {
    const text = "Hello , world ! I do n't know .";
    const l = llama3.tokenizer;
    expect(l.decode(l.encode(text))).toBe("Hello, world! I don't know.");
    expect(l.decode(l.encode(text), { cleanUpTokenizationSpaces: false })).toBe(text);
    expect(qwen3.tokenizer.decode(qwen3.tokenizer.encode(text))).toBe(text);
  });
});

describe('padded batches', () => {
  test('left padding for a decoder: pad before, mask 0 there, rows as encoded one at a time', () => {
    const tk = qwen3.tokenizer;
    const texts = ['Hi', 'A longer line, with more tokens in it.', ''];
    const rows = texts.map((s) => tk.encode(s));
    const n = Math.max(...rows.map((r) => r.length));
    const b = tk.encodeBatch(texts, { side: 'left' });
    for (const [i, r] of rows.entries()) {
      expect(b.ids[i]).toEqual([...new Array(n - r.length).fill(151643), ...r]);
      expect(b.attentionMask[i]).toEqual([
        ...new Array(n - r.length).fill(0),
        ...new Array(r.length).fill(1),
      ]);
    }
  });

  test('no pad token: a typed error, unless the caller names one', () => {
    const tk = llama3.tokenizer;
    expect(thrown(() => tk.encodeBatch(['a', 'bb cc'], { side: 'left' })).code).toBe('padding');
    const b = tk.encodeBatch(['a', 'bb cc'], { side: 'left', padTokenId: tk.eosTokenId! });
    expect(b.ids[0]![0]).toBe(128001);
    expect(thrown(() => tk.encodeBatch(['a'], { side: 'left', padTokenId: 1e9 })).code).toBe(
      'padding',
    );
  });
});

describe('tokenizer.json files built here', () => {
  test('a character-level BPE (the shipped model’s kind): one id per character, <s> prepended', () => {
    const tk = loadTokenizer(charLevel('<unk>'), {
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '<unk>',
    });
    expect(tk.encode('hello, world!')).toEqual([
      1, 10, 7, 14, 14, 17, 30, 29, 25, 17, 20, 14, 6, 32,
    ]);
    expect(tk.encode('héllo')).toEqual([1, 10, 0, 14, 14, 17]);
    expect(tk.decode([1, 10, 0, 14, 14, 17], { skipSpecialTokens: true })).toBe('hllo');
    expect(tk.decode(tk.encode('in the beginning\n'), { skipSpecialTokens: true })).toBe(
      'in the beginning\n',
    );
    expect([tk.vocabSize, tk.bosTokenId, tk.eosTokenId, tk.unkTokenId, tk.padTokenId]).toEqual([
      36,
      1,
      2,
      0,
      null,
    ]);
  });

  test('a character the vocab lacks, with no unk token, is dropped, as tokenizers drops it', () => {
    expect(loadTokenizer(charLevel(null)).encode('héllo')).toEqual([1, 10, 14, 14, 17]);
  });

  test('a Unigram with Metaspace: best-scoring split, unk id, and no unk_id → encode error', () => {
    const tk = loadTokenizer(unigram(0));
    expect(['ab', 'ab abc', 'a b', 'abx'].map((s) => tk.encode(s))).toEqual([
      [5],
      [5, 5, 7],
      [6, 1, 3],
      [5, 0],
    ]);
    expect(tk.decode([5, 5, 7])).toBe('ab abc');
    const e = thrown(() => loadTokenizer(unigram(null)).encode('abx'));
    expect([e.code, e.field]).toEqual(['encode', 'model.unk_id']);
  });

  test('a BERT-style WordPiece: lowercases, strips accents, ## pieces, [CLS]/[SEP], right padding', () => {
    const tk = loadTokenizer(wordPiece(), { pad_token: '[PAD]', cls_token: '[CLS]' });
    expect(tk.encode('Hellos WORLD!')).toEqual([2, 4, 6, 5, 7, 3]);
    expect(tk.encode('the tokenizers')).toEqual([2, 11, 8, 9, 10, 6, 3]);
    expect(tk.encode('Héllo xyz')).toEqual([2, 4, 1, 3]);
    expect(tk.decode([2, 11, 8, 9, 10, 6, 3], { skipSpecialTokens: true })).toBe('the tokenizers');
    const b = tk.encodeBatch(['the', 'Hellos WORLD!'], { side: 'right' });
    expect(b.ids).toEqual([
      [2, 11, 3, 0, 0, 0],
      [2, 4, 6, 5, 7, 3],
    ]);
    expect(b.attentionMask).toEqual([
      [1, 1, 1, 0, 0, 0],
      [1, 1, 1, 1, 1, 1],
    ]);
  });
});

describe('malformed files are typed errors naming the file and the field', () => {
  const bad = (mutate: (j: Json) => void, config?: unknown) => {
    const j = charLevel('<unk>');
    mutate(j);
    return thrown(() => loadTokenizer(j, config));
  };
  test.each([
    ['not an object', () => thrown(() => loadTokenizer([1, 2])), 'json', 'tokenizer.json', ''],
    ['no model', () => bad((j) => delete j.model), 'json', 'tokenizer.json', 'model'],
    [
      'WordLevel',
      () => bad((j) => (j.model.type = 'WordLevel')),
      'unsupported',
      'tokenizer.json',
      'model.type',
    ],
    [
      'negative id',
      () => bad((j) => (j.model.vocab.a = -1)),
      'vocab',
      'tokenizer.json',
      'model.vocab["a"]',
    ],
    [
      'shared id',
      () => bad((j) => (j.model.vocab.b = 3)),
      'vocab',
      'tokenizer.json',
      'model.vocab["b"]',
    ],
    [
      'huge id',
      () => bad((j) => (j.model.vocab.b = 2 ** 40)),
      'vocab',
      'tokenizer.json',
      'model.vocab["b"]',
    ],
    [
      'merge of unknown',
      () => bad((j) => (j.model.merges = ['a b'])),
      'vocab',
      'tokenizer.json',
      'model.merges[0]',
    ],
    [
      'merge not a pair',
      () => bad((j) => (j.model.merges = ['a b c'])),
      'vocab',
      'tokenizer.json',
      'model.merges[0]',
    ],
    [
      'unk not in vocab',
      () => bad((j) => (j.model.unk_token = '<?>')),
      'vocab',
      'tokenizer.json',
      'model.unk_token',
    ],
    [
      'added id clash',
      () => bad((j) => (j.added_tokens[2].id = 3)),
      'vocab',
      'tokenizer.json',
      'added_tokens[2].id',
    ],
    [
      'added twice',
      () => bad((j) => j.added_tokens.push({ ...j.added_tokens[1], id: 40 })),
      'vocab',
      'tokenizer.json',
      'added_tokens[3].content',
    ],
    [
      'added not a list',
      () => bad((j) => (j.added_tokens = {})),
      'vocab',
      'tokenizer.json',
      'added_tokens',
    ],
    [
      'unknown normalizer',
      () => bad((j) => (j.normalizer = { type: 'Frobnicate' })),
      'unsupported',
      'tokenizer.json',
      'normalizer',
    ],
    [
      'decoder not an object',
      () => bad((j) => (j.decoder = 'Fuse')),
      'json',
      'tokenizer.json',
      'decoder',
    ],
    [
      'bad regex',
      () =>
        bad(
          (j) =>
            (j.pre_tokenizer = {
              type: 'Split',
              pattern: { Regex: '(' },
              behavior: 'Isolated',
              invert: false,
            }),
        ),
      'unsupported',
      'tokenizer.json',
      '',
    ],
    [
      'bos not in vocab',
      () => bad(() => {}, { bos_token: '<bos>' }),
      'special-token',
      'tokenizer_config.json',
      'bos_token',
    ],
    [
      'eos a number',
      () => bad(() => {}, { eos_token: 7 }),
      'special-token',
      'tokenizer_config.json',
      'eos_token',
    ],
    ['config a list', () => bad(() => {}, []), 'json', 'tokenizer_config.json', ''],
  ])('%s', (_name, run, code, file, field) => {
    const e = run();
    expect([e.code, e.file, e.field]).toEqual([code, file, field]);
  });

  test('decoding an id outside the vocabulary is a typed error', () => {
    const tk = qwen3.tokenizer;
    for (const id of [-1, 1.5, tk.vocabSize, Number.NaN])
      expect(thrown(() => tk.decode([9707, id])).code).toBe('decode');
  });
});
