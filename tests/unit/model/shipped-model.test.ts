// The model shipped in public/models/kjv-char: an ordinary Hugging Face GPT-2 checkpoint with a
// character-level tokenizer.json (written by training/char-checkpoint.ts; `npm run train`).
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { logitErrorBound, modelSummary } from '../../../src/model/hf/cost';
import { filesFromMap } from '../../../src/model/hf/files';
import { gpt2Forward } from '../../../src/model/hf/reference';
import { loadTokenizer } from '../../../src/model/hf/tokenizer';
import type { Gpt2Config } from '../../../src/model/hf/types';
import { encodeText, shippedModel } from '../../../src/ui/shipped-model';
import { createComputeApi } from '../../../src/worker/api';
import { charTokenizerJson } from '../../../training/char-checkpoint';

const dir = 'public/models/kjv-char';
const files = Object.fromEntries(
  readdirSync(dir).map((n) => [n, new Uint8Array(readFileSync(`${dir}/${n}`))]),
);
const json = (name: string) => JSON.parse(new TextDecoder().decode(files[name]));
const checkpoint = await loadCheckpoint(filesFromMap(new Map(Object.entries(files))));
const config = checkpoint.config as Gpt2Config;
const tokenizer = loadTokenizer(json('tokenizer.json'), json('tokenizer_config.json'));
const alphabet: string[] = Object.keys(json('tokenizer.json').model.vocab);

/** The next-character logits the model gave in its old format (tessel's own config and
 * tensor names, forwarded by the since-removed src/model/gpt.ts float64 reference) before it
 * was converted: the four largest of each prompt's last position, as [id, logit]. */
const BEFORE_CONVERSION: [string, [number, number][]][] = [
  [
    'In the beginning God created the heaven and the earth. And the e',
    [
      [57, 4.468270237464],
      [36, 4.059387923865],
      [49, 3.603115207219],
      [53, 2.933455777555],
    ],
  ],
  [
    'And Moses said unto the LORD, Wherefore hast thou afflicted thy ',
    [
      [43, 3.284785220274],
      [55, 3.180714343255],
      [54, 3.035592157965],
      [50, 2.739646951677],
    ],
  ],
  [
    'And',
    [
      [1, 6.760758105583],
      [6, 3.740515042958],
      [54, 3.689575821359],
      [40, 2.618952349406],
    ],
  ],
];

describe('the shipped checkpoint', () => {
  test('is the Hugging Face GPT-2 layout the model was trained as, small enough to ship', () => {
    expect(Object.keys(files).sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(config).toMatchObject({
      family: 'gpt2',
      vocabSize: 62,
      nPositions: 64,
      nEmbd: 128,
      nHead: 4,
      nLayer: 2,
      nInner: 512,
      // Trained with GELU's tanh form: transformers' gelu_new.
      activation: 'gelu_new',
      layerNormEpsilon: 1e-5,
      eosTokenIds: [alphabet.indexOf('\n')],
    });
    expect(checkpoint.weights.names()).toContain('wte.weight');
    expect(files['model.safetensors']!.byteLength).toBeLessThan(4 * 2 ** 20);
    expect(tokenizer.vocabSize).toBe(config.vocabSize);
  });

  test('computes what the model computed before its conversion', () => {
    for (const [prompt, top] of BEFORE_CONVERSION) {
      const ids = tokenizer.encode(prompt);
      const all = gpt2Forward(config, checkpoint.weights, [ids])[0]!;
      const last = all[all.length - 1]!;
      const order = Array.from(last.keys()).sort((a, b) => last[b]! - last[a]!);
      expect(order.slice(0, 4)).toEqual(top.map(([id]) => id));
      for (const [id, logit] of top) expect(last[id]).toBeCloseTo(logit, 9);
    }
  });
});

describe('the character tokenizer', () => {
  test('every character of the alphabet is one token, and decoding joins them back', () => {
    const all = alphabet.join('');
    expect(tokenizer.encode(all)).toEqual(alphabet.map((_, i) => i));
    expect(tokenizer.decode(alphabet.map((_, i) => i))).toBe(all);
    for (const [i, ch] of alphabet.entries()) {
      expect(tokenizer.encode(ch)).toEqual([i]);
      expect(tokenizer.decode([i])).toBe(ch);
    }
  });

  test('the whole training text encodes character by character and decodes back exactly', () => {
    // Python's tokenizers (0.23.2) gave the same ids for this file when the checkpoint was
    // written: 815,101 tokens, one per character.
    const text = readFileSync('training/kjv-torah.txt', 'utf8');
    const ids = tokenizer.encode(text);
    expect(ids).toHaveLength(text.length);
    const index = new Map(alphabet.map((ch, i) => [ch, i]));
    expect(ids.every((id, i) => id === index.get(text[i]!))).toBe(true);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  test('characters outside the alphabet: the library drops them, encodeText names them', () => {
    // No unk token (the model has no row for one), so tokenizers drops what it cannot encode.
    expect(tokenizer.decode(tokenizer.encode('héllo 😀!'))).toBe('hllo !');
    expect(encodeText(tokenizer, 'héllo 😀!')).toEqual({ unknown: ['é', '😀'] });
    expect(encodeText(tokenizer, 'And God')).toEqual(Uint32Array.from(tokenizer.encode('And God')));
  });

  test('the file is what training/char-checkpoint.ts writes for the alphabet', () => {
    expect(json('tokenizer.json')).toEqual(charTokenizerJson(alphabet));
    expect(() => charTokenizerJson(['a', 'a'])).toThrow(RangeError);
    expect(() => charTokenizerJson(['ab'])).toThrow(RangeError);
  });
});

describe('the shipped model on the page and in the Worker', () => {
  const api = createComputeApi();
  afterAll(() => api.dispose());

  test('shippedModel() loads every file through a URL source and skips SPA fallback pages', async () => {
    const asked: string[] = [];
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const name = String(input).replace('http://test/models/kjv-char/', '');
      asked.push(`${init?.method ?? 'GET'} ${name}`);
      const bytes = files[name];
      // A single-page-app server answers every other path with its index page.
      if (!bytes)
        return new Response('<html></html>', { headers: { 'content-type': 'text/html' } });
      return new Response(init?.method === 'HEAD' ? null : (bytes as Uint8Array<ArrayBuffer>));
    }) as typeof fetch;
    const model = await shippedModel('http://test/models/kjv-char/', fetcher)();
    expect(Object.keys(model.files).sort()).toEqual(Object.keys(files).sort());
    expect(model.summary).toEqual(modelSummary(config));
    expect(model.maxSeq).toBe(64);
    expect(model.vocab.join('')).toBe(alphabet.join(''));
    expect(asked).not.toContain('GET chat_template.jinja');
  });

  test('the Worker loads it under the checkpoint digest; its logits are within the bound', async () => {
    // The CPU engine: what every machine has (the GPU path is tests/unit/model/hf-run-gpu.test.ts's).
    await api.setEngine('cpu');
    const info = await api.loadModel(structuredClone(files));
    expect(info).toMatchObject({ digest: checkpoint.digest, family: 'gpt2', vocab: 62 });
    const prompt = 'And God said, Let there be light: and there was light.';
    const ids = Uint32Array.from(tokenizer.encode(prompt));
    const got = await api.logits(info.digest, ids, 1, ids.length, ids.length - 1);
    const all = gpt2Forward(config, checkpoint.weights, [Array.from(ids)])[0]!;
    const want = all[all.length - 1]!;
    const scale = Math.max(...Array.from(want, Math.abs));
    const bound = logitErrorBound(modelSummary(config), scale);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThanOrEqual(bound);
    console.log(
      `worst |Δlogit| ${worst.toExponential(2)} = ${(worst / bound).toFixed(3)} of the bound`,
    );
    // Seeded sampling repeats exactly.
    const options = { steps: 10, temperature: 0.7, seeds: Uint32Array.from([2026]) };
    const a = await api.generateTokens(info.digest, ids, 1, ids.length, options);
    const b = await api.generateTokens(info.digest, ids, 1, ids.length, options);
    expect(a).toEqual(b);
    console.log(`sample: ${JSON.stringify(prompt + tokenizer.decode(a))}`);
  });
});
