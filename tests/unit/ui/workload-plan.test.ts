// The data-set form's pure parts (src/ui/workload-plan.ts): its parameters as typed, the estimate
// from a sample's token counts, and the read → tokenize pipeline, run on real files through the
// real data-set readers and the fixture checkpoints' real tokenizers (tests/support/hf-text-fixture.ts).

import { describe, expect, test } from 'vitest';
import { DatasetError, readRows } from '../../../src/model/dataset';
import { parseConfig, parseJsonObject } from '../../../src/model/hf/config';
import { forwardFlops, modelSummary } from '../../../src/model/hf/cost';
import { filesFromMap } from '../../../src/model/hf/files';
import { loadHfModel } from '../../../src/model/hf/model';
import type { TokenizeRequest } from '../../../src/model/hf/runtime-types';
import { tokenizeTexts } from '../../../src/model/hf/tokenize';
import { InputError } from '../../../src/ui/form-input';
import {
  estimateRows,
  estimateText,
  kindsFor,
  maxRowTokens,
  readParams,
  rowFlops,
  tokenizeDataset,
} from '../../../src/ui/workload-plan';
import type { HfFixtureKind } from '../../support/hf-checkpoints';
import { textCheckpointFiles } from '../../support/hf-text-fixture';

async function fixture(kind: HfFixtureKind) {
  const files = textCheckpointFiles(kind);
  const model = await loadHfModel(filesFromMap(files));
  const summary = modelSummary(
    parseConfig(parseJsonObject('config.json', files.get('config.json')!)),
  );
  const calls: TokenizeRequest[] = [];
  const tokenize = async (r: TokenizeRequest) => {
    calls.push(r);
    return tokenizeTexts(model, r);
  };
  return { model, summary, tokenize, calls };
}

const fields = (values: Record<string, string>) => (name: string) => values[name] ?? '';

describe('readParams', () => {
  test('reads each kind, with generate’s fields only for generate', () => {
    expect(
      readParams(fields({ kind: 'embed', overlong: 'refuse', 'max-new-tokens': 'x' })),
    ).toEqual({
      kind: 'embed',
      overLong: 'refuse',
      maxNewTokens: 0,
      temperature: 0,
      chat: false,
    });
    expect(
      readParams(
        fields({
          kind: 'generate',
          'max-new-tokens': '16',
          temperature: '0.7',
          seed: '42',
          chat: 'on',
          'per-shard': '64',
        }),
      ),
    ).toEqual({
      kind: 'generate',
      overLong: 'truncate',
      maxNewTokens: 16,
      temperature: 0.7,
      seed: 42,
      chat: true,
      perShard: 64,
    });
  });

  test('refuses what the spec would, naming the field', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ kind: 'classify' }, /embeddings, generations or scores/],
      [{ kind: 'score', 'per-shard': '0' }, /Rows per shard/],
      [{ kind: 'score', 'per-shard': '4097' }, /Rows per shard/],
      [{ kind: 'generate', 'max-new-tokens': '', temperature: '0' }, /Max new tokens/],
      [{ kind: 'generate', 'max-new-tokens': '1.5', temperature: '0' }, /Max new tokens/],
      [{ kind: 'generate', 'max-new-tokens': '4', temperature: '-1' }, /Temperature/],
      [{ kind: 'generate', 'max-new-tokens': '4', temperature: '0', seed: '4294967296' }, /Seed/],
    ];
    for (const [values, message] of bad) {
      expect(() => readParams(fields(values))).toThrow(InputError);
      expect(() => readParams(fields(values))).toThrow(message);
    }
  });

  test('a model’s task decides its kinds; generation leaves room for its tokens', () => {
    expect(kindsFor('embed')).toEqual(['embed']);
    expect(kindsFor('generate')).toEqual(['generate', 'score']);
    const gen = readParams(fields({ kind: 'generate', 'max-new-tokens': '32', temperature: '0' }));
    expect(maxRowTokens(gen, 128)).toBe(97);
    expect(maxRowTokens({ ...gen, kind: 'score' }, 128)).toBe(128);
    expect(() => maxRowTokens({ ...gen, maxNewTokens: 130 }, 128)).toThrow(/no room/);
  });
});

const { summary } = await fixture('llama');
const bert = await fixture('bert');

describe('estimateRows', () => {
  test('scales the sample’s tokens and FLOPs to every row; exact when the sample is all', () => {
    const sample = [5, 9, 13, 1];
    const all = estimateRows('score', summary, 4, sample, 0);
    expect(all).toEqual({
      rows: 4,
      tokens: 28,
      flops: sample.reduce((s, n) => s + forwardFlops(summary, n, n), 0),
      exact: true,
    });
    const many = estimateRows('score', summary, 1_000, sample, 0);
    expect(many).toMatchObject({ tokens: 7_000, exact: false });
    expect(many.flops).toBeCloseTo(all.flops * 250, 0);
    expect(estimateRows('embed', summary, 0, [], 0)).toEqual({
      rows: 0,
      tokens: 0,
      flops: 0,
      exact: true,
    });
  });

  test('each kind’s FLOPs per row are the runtime’s forward passes', () => {
    expect(rowFlops('embed', summary, 10, 0)).toBe(forwardFlops(summary, 10, 0));
    expect(rowFlops('score', summary, 10, 0)).toBe(forwardFlops(summary, 10, 10));
    expect(rowFlops('generate', summary, 10, 8)).toBe(forwardFlops(summary, 17, 8));
  });

  test('the words: rows, tokens, GFLOP, and the time only where a speed is known', () => {
    const p = readParams(fields({ kind: 'generate', 'max-new-tokens': '8', temperature: '0' }));
    const e = { rows: 2_000, tokens: 64_000, flops: 4e12, exact: false };
    const known = estimateText(e, p, 100);
    expect(known).toMatch(
      /^2,000 rows, about 64,000 tokens \+ up to 16,000 generated, about 4,000 GFLOP/,
    );
    expect(known).toMatch(/Time: about 40 s on the 100 GFLOP\/s/);
    expect(estimateText(e, p, undefined)).toMatch(/Time: unknown/);
  });
});

describe('tokenizeDataset', () => {
  const lines = ['the cat sat', 'a', 'dogs bark loudly', 'x y z', 'hello'];
  const jsonl = new File(
    [lines.map((text, i) => JSON.stringify({ id: i, text })).join('\n')],
    'rows.jsonl',
  );

  test('reads and tokenizes a file a chunk at a time, rows and texts in order', async () => {
    const progress: number[] = [];
    const got = await tokenizeDataset(
      readRows(jsonl, { field: 'text' }),
      bert.tokenize,
      {},
      { file: 'rows.jsonl', field: 'text' },
      { chunk: 2, onProgress: (n) => progress.push(n) },
    );
    expect(got.inputs).toEqual(lines);
    expect(got.rows).toEqual(tokenizeTexts(bert.model, { texts: lines }).rows);
    expect(got.truncated).toEqual([]);
    expect(bert.calls.slice(-3).map((c) => c.texts.length)).toEqual([2, 2, 1]);
    expect(progress).toEqual([2, 4, 5]);
  });

  test('rows cut to maxTokens are listed by their data row (1-based)', async () => {
    const got = await tokenizeDataset(
      readRows(jsonl, { field: 'text' }),
      bert.tokenize,
      { maxTokens: 6 },
      { file: 'rows.jsonl' },
      { chunk: 2 },
    );
    // [CLS] + a token per letter + [SEP]: "the cat sat", "dogs bark loudly" and "hello" exceed 6.
    const full = tokenizeTexts(bert.model, { texts: lines }).rows.map((r) => r.length);
    expect(full.map((n, i) => (n > 6 ? i + 1 : 0)).filter(Boolean)).toEqual([1, 3, 5]);
    expect(got.truncated).toEqual([1, 3, 5]);
    expect(got.rows.every((r) => r.length <= 6)).toBe(true);
  });

  test('a refused row is a DatasetError naming the file, the data row and the field', async () => {
    const e = await tokenizeDataset(
      readRows(jsonl, { field: 'text' }),
      bert.tokenize,
      { maxTokens: 6, overLong: 'refuse' },
      { file: 'rows.jsonl', field: 'text' },
      { chunk: 2 },
    ).catch((x) => x);
    expect(e).toBeInstanceOf(DatasetError);
    expect(e).toMatchObject({ code: 'row-too-long', file: 'rows.jsonl', row: 1, field: 'text' });
    expect(e.message).toMatch(/^rows\.jsonl, row 1, field "text": the text has 11 tokens/);
    const blank = new File(['ok\n   \nfine\n'], 'blank.txt');
    await expect(
      tokenizeDataset(readRows(blank), bert.tokenize, {}, { file: 'blank.txt' }, { chunk: 1 }),
    ).rejects.toMatchObject({ name: 'DatasetError', code: 'bad-row', row: 2 });
  });

  test('stops between chunks when aborted, without tokenizing the rest', async () => {
    const abort = new AbortController();
    const before = bert.calls.length;
    const run = tokenizeDataset(
      readRows(jsonl, { field: 'text' }),
      bert.tokenize,
      {},
      { file: 'rows.jsonl' },
      {
        chunk: 1,
        signal: abort.signal,
        onProgress: (n) => n === 2 && abort.abort(new Error('stop')),
      },
    );
    await expect(run).rejects.toThrow('stop');
    expect(bert.calls.length - before).toBe(2);
  });
});
