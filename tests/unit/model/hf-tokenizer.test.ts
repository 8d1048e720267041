/**
 * The Hugging Face tokenizer and chat templates, on real files (Llama 3, Qwen 3) and on small
 * tokenizer.json files written here. Over ~450 lines because the small files and the expected
 * chat-template strings stay inline, beside the tests that read them.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { applyChatTemplate, type ChatMessage } from '../../../src/model/hf/chat-template';
import { loadTokenizer, TokenizerError } from '../../../src/model/hf/tokenizer';
import { mixedLines } from '../../fixtures/tokenizers/mixed-text';

// Real tokenizer.json files (Llama 3, Qwen 3), gzipped; see tests/fixtures/tokenizers/README.md.
const DIR = 'tests/fixtures/tokenizers';
// biome-ignore lint/suspicious/noExplicitAny: the tests read and mutate parsed JSON field by field
type Json = Record<string, any>;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));
const real = (name: 'llama3' | 'qwen3') => {
  const json = JSON.parse(
    gunzipSync(readFileSync(`${DIR}/${name}/tokenizer.json.gz`)).toString('utf8'),
  );
  const config = readJson(`${DIR}/${name}/tokenizer_config.json`);
  return { json: json as Json, config, tokenizer: loadTokenizer(json, config) };
};
const llama3 = real('llama3');
const qwen3 = real('qwen3');

/** Ids that Python `tokenizers` (the Rust reference) gave for mixedLines(3000): see the README. */
const reference = JSON.parse(
  gunzipSync(readFileSync(`${DIR}/reference-ids.json.gz`)).toString('utf8'),
) as {
  tokenizers_version: string;
  lines: string[];
  llama3: number[][];
  qwen3: number[][];
  /** Python's decode(ids, skip_special_tokens=True) of each line's ids. */
  llama3_skip_special: string[];
  qwen3_skip_special: string[];
};

function thrown(f: () => unknown): TokenizerError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TokenizerError);
    return e as TokenizerError;
  }
  throw new Error('expected a TokenizerError');
}

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
    expect(tk.encode('Hello world')).toEqual([vocab.Hello, vocab['Ġworld']]); // Ġ: byte-level space
    expect(tk.encode(' 😀')).toEqual(tk.encode(' 😀', { addSpecialTokens: false }));
    expect(tk.tokenToId('Hello')).toBe(vocab.Hello);
    expect(tk.idToToken(vocab['Ġworld']!)).toBe('Ġworld');
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

// Small tokenizer.json files written here; the ids were checked with Python tokenizers 0.23.2.
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
const charLevel = (unk: string | null): Json => ({
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
const wordPiece = (): Json => ({
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

const unigram = (unk: number | null): Json => ({
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

describe('chat templates', () => {
  const chat: ChatMessage[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hi! 你好 😀' },
  ];
  // Expected strings: rendered by Python jinja2 as transformers' apply_chat_template sets it up.
  test("Llama 3's template: bos_token bound, headers, <|eot_id|>", () => {
    expect(applyChatTemplate(llama3.config, chat, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nHi! 你好 😀<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  test("Qwen 3's template: generation prompt, enable_thinking, reasoning kept only after the last query, tools", () => {
    const base =
      '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi! 你好 😀<|im_end|>\n';
    expect(applyChatTemplate(qwen3.config, chat)).toBe(base);
    expect(applyChatTemplate(qwen3.config, chat, { addGenerationPrompt: true })).toBe(
      `${base}<|im_start|>assistant\n`,
    );
    expect(
      applyChatTemplate(qwen3.config, chat, {
        addGenerationPrompt: true,
        extra: { enable_thinking: false },
      }),
    ).toBe(`${base}<|im_start|>assistant\n<think>\n\n</think>\n\n`);
    const turns = [
      ...chat,
      { role: 'assistant', content: '<think>\nShort.\n</think>\n\nHello.' },
      { role: 'user', content: 'Again' },
      { role: 'assistant', content: '<think>\nStill short.\n</think>\n\nHello again.' },
    ];
    expect(applyChatTemplate(qwen3.config, turns)).toBe(
      `${base}<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n` +
        '<|im_start|>assistant\n<think>\nStill short.\n</think>\n\nHello again.<|im_end|>\n',
    );
    const tools = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      },
    ];
    expect(
      applyChatTemplate(qwen3.config, [{ role: 'user', content: 'Weather in Paris?' }], {
        tools,
        addGenerationPrompt: true,
      }),
    ).toBe(
      '<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
        'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
        '{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city", "parameters": ' +
        '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n</tools>\n\n' +
        'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' +
        '<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n',
    );
  });

  test('the rendered prompt encodes to the special ids, not their spelling', () => {
    const ids = qwen3.tokenizer.encode(
      applyChatTemplate(qwen3.config, chat, { addGenerationPrompt: true }),
      {
        addSpecialTokens: false,
      },
    );
    expect(ids.filter((id) => id === 151644).length).toBe(3);
    expect(ids.filter((id) => id === 151645).length).toBe(2);
  });

  test('a named list picks "default", or "tool_use" when tools are given', () => {
    const config = {
      bos_token: { content: '<s>' },
      chat_template: [
        {
          name: 'default',
          template:
            '{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}',
        },
        { name: 'tool_use', template: '{{ tools | length }} tool(s)' },
      ],
    };
    expect(applyChatTemplate(config, chat)).toBe('<s>[system]You are terse.[user]Hi! 你好 😀');
    expect(applyChatTemplate(config, chat, { tools: [{}] })).toBe('1 tool(s)');
    expect(thrown(() => applyChatTemplate(config, chat, { templateName: 'rag' })).field).toBe(
      'chat_template',
    );
  });

  test.each([
    ['no template', {}],
    ['not a template', { chat_template: 42 }],
    ['does not parse', { chat_template: '{% if %}' }],
    ['raises', { chat_template: "{{ raise_exception('System role not supported') }}" }],
    ['bad list entry', { chat_template: [{ name: 'default' }] }],
  ])('%s → TokenizerError', (_name, config) => {
    const e = thrown(() => applyChatTemplate(config, chat));
    expect([e.code, e.file, e.field]).toEqual([
      'chat-template',
      'tokenizer_config.json',
      'chat_template',
    ]);
    if (_name === 'raises') expect(e.message).toContain('System role not supported');
  });
});
