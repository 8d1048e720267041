// The results file of a data-set job (src/ui/results-file.ts): built shard by shard in row order
// from the verified outputs, embeddings as an .npy read back with the app's own reader, and
// generations and scores as .jsonl whose every line is parsed. Generated rows are cut at their
// first stop token and decoded with the fixture checkpoint's real tokenizer.

import { describe, expect, test } from 'vitest';
import { inferenceOutput, type Output } from '../../../src/jobs/codec';
import type { InferenceSpec } from '../../../src/jobs/inference-spec';
import { buildRowsSpec, type RowKind, rowShards } from '../../../src/jobs/rows';
import { parseConfig, parseJsonObject } from '../../../src/model/hf/config';
import { modelSummary } from '../../../src/model/hf/cost';
import { filesFromMap } from '../../../src/model/hf/files';
import { loadHfModel } from '../../../src/model/hf/model';
import { detokenizeRows, tokenizeTexts } from '../../../src/model/hf/tokenize';
import { npyHeader, readNpy } from '../../../src/model/npy';
import { seededRng } from '../../../src/model/rng';
import {
  ResultsError,
  type ResultsLine,
  type ResultsSource,
  resultsFile,
} from '../../../src/ui/results-file';
import type { HfFixtureKind } from '../../support/hf-checkpoints';
import { textCheckpointFiles } from '../../support/hf-text-fixture';

async function fixture(kind: HfFixtureKind) {
  const files = textCheckpointFiles(kind);
  const model = await loadHfModel(filesFromMap(files));
  const summary = modelSummary(
    parseConfig(parseJsonObject('config.json', files.get('config.json')!)),
  );
  return { model, summary };
}

const bert = await fixture('bert');
const llama = await fixture('llama');

/** 23 rows of text, some words repeated so rows differ in length. */
const texts = Array.from(
  { length: 23 },
  (_, i) => `row ${'abc'.repeat(1 + (i % 4))} ${String.fromCharCode(97 + i)}`,
);

function spec(
  kind: RowKind,
  f: typeof bert,
  extra: Partial<Parameters<typeof buildRowsSpec>[1]> = {},
) {
  const rows = tokenizeTexts(f.model, { texts }).rows;
  return buildRowsSpec(
    kind,
    {
      modelDigest: 'ab'.repeat(32),
      model: f.summary,
      rows,
      inputs: texts,
      perShard: 4, // 6 shards, the last of 3 rows
      // Canaries are shuffled among the shard ids: the file must never ask for one.
      policy: { canaryRate: 0.5 },
      ...extra,
    },
    seededRng(7),
  );
}

/** A source over `outputs` by shard id, recording which shards were asked for. */
function source(outputs: Map<number, Output>, f = llama): ResultsSource & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    output: async (id) => {
      asked.push(id);
      return outputs.get(id);
    },
    detokenize: async (rows) => detokenizeRows(f.model, rows),
  };
}

async function lines(blob: Blob): Promise<ResultsLine[]> {
  const text = await blob.text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as ResultsLine);
}

describe('npyHeader', () => {
  test('a header and data written after it read back as the array (numpy.save layout)', () => {
    for (const shape of [[3, 4], [7], [2_000, 32], [1, 1], [0, 384], [12_345, 8]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const header = npyHeader('<f4', shape);
      expect(header.length % 64).toBe(0); // the data starts 64-byte aligned
      const data = Float32Array.from({ length: n }, (_, i) => i / 7);
      const file = new Uint8Array(header.length + 4 * n);
      file.set(header);
      file.set(new Uint8Array(data.buffer), header.length);
      const back = readNpy(file);
      expect(back.shape).toEqual(shape);
      expect(back.data).toEqual(data);
    }
  });
});

describe('embeddings', () => {
  const s = spec('embed', bert);
  const hidden = bert.summary.hidden;
  /** Row r's vector: distinct values, so a row in the wrong place shows. */
  const vector = (r: number) => Float32Array.from({ length: hidden }, (_, j) => r * 0.5 - j / 7);
  const outputs = new Map<number, Output>();
  for (const sh of rowShards(s)) {
    const vectors = new Float32Array(sh.count * hidden);
    for (let i = 0; i < sh.count; i++) vectors.set(vector(sh.start + i), i * hidden);
    outputs.set(sh.shardId, inferenceOutput({ vectors }));
  }

  test('an .npy of rows × hidden float32 in row order, read back with the app reader', async () => {
    expect(s.policy.canaryRate).toBeGreaterThan(0);
    const src = source(outputs);
    const progress: number[] = [];
    const file = await resultsFile('job1', 'embed', s, src, {
      onProgress: (r) => progress.push(r),
    });
    expect(file.name).toBe('embeddings-job1.npy');
    expect(file.rows).toBe(texts.length);
    const back = readNpy(new Uint8Array(await file.blob.arrayBuffer()));
    expect(back.shape).toEqual([texts.length, hidden]);
    for (let r = 0; r < texts.length; r++) {
      expect(back.data.subarray(r * hidden, (r + 1) * hidden)).toEqual(vector(r));
    }
    // Only real shards were read, each once; progress rose to every row.
    expect(src.asked.sort()).toEqual([...outputs.keys()].sort());
    expect(progress.at(-1)).toBe(texts.length);
  });

  test('a missing shard or one of the wrong size is refused, partial or not', async () => {
    const [first, second] = rowShards(s);
    const without = new Map(outputs);
    without.delete(second!.shardId);
    for (const partial of [false, true]) {
      const e = await resultsFile('j', 'embed', s, source(without), { partial }).catch((x) => x);
      expect(e).toBeInstanceOf(ResultsError);
      expect(e).toMatchObject({ code: 'missing', message: expect.stringContaining('rows 5–8') });
    }
    const short = new Map(outputs).set(
      first!.shardId,
      inferenceOutput({ vectors: new Float32Array(hidden) }),
    );
    await expect(resultsFile('j', 'embed', s, source(short))).rejects.toMatchObject({
      code: 'shape',
    });
  });
});

describe('generations', () => {
  const steps = 6;
  const s = spec('generate', llama, {
    maxNewTokens: steps,
    stopTokens: [llama.model.info.eosTokenIds[0]!],
  });
  const eos = s.stopTokens![0]!;
  const say = (text: string) => tokenizeTexts(llama.model, { texts: [text] }).rows[0]!.subarray(1); // no <s>
  /** Even rows stop early ("ok" then eos, then tokens that must be cut); odd rows run to length. */
  const row = (r: number): Uint32Array => {
    const t = new Uint32Array(steps);
    if (r % 2 === 0) t.set([...say('ok'), eos, ...say('xyz')]);
    else t.set(say(`go ${String.fromCharCode(97 + (r % 26))}!`.slice(0, steps)));
    return t;
  };
  const outputs = new Map<number, Output>();
  for (const sh of rowShards(s)) {
    const tokens = new Uint32Array(sh.count * steps);
    for (let i = 0; i < sh.count; i++) tokens.set(row(sh.start + i), i * steps);
    outputs.set(sh.shardId, inferenceOutput({ tokens }));
  }

  test('one line per row: input, text cut after the first stop token, tokens, finish reason', async () => {
    const file = await resultsFile('g', 'generate', s, source(outputs));
    expect(file.name).toBe('generations-g.jsonl');
    const got = await lines(file.blob);
    expect(got.map((l) => l.row)).toEqual(texts.map((_, i) => i));
    for (const l of got) {
      expect(l.input).toBe(texts[l.row]);
      if (l.row % 2 === 0) {
        expect(l).toEqual({
          row: l.row,
          input: texts[l.row],
          output: 'ok',
          tokens: 3,
          finish_reason: 'stop',
        });
      } else {
        expect(l.output).toBe(`go ${String.fromCharCode(97 + (l.row % 26))}!`.slice(0, steps));
        expect(l).toMatchObject({ tokens: steps, finish_reason: 'length' });
      }
      expect(l).not.toHaveProperty('logprob');
    }
  });

  test('partial: the rows of shards not yet verified are left out, the rest kept in order', async () => {
    const shards = rowShards(s);
    const some = new Map(outputs);
    some.delete(shards[0]!.shardId);
    some.delete(shards[3]!.shardId);
    const got = await lines(
      (await resultsFile('g', 'generate', s, source(some), { partial: true })).blob,
    );
    const expected = shards
      .filter((_, i) => i !== 0 && i !== 3)
      .flatMap((sh) => Array.from({ length: sh.count }, (_, i) => sh.start + i));
    expect(got.map((l) => l.row)).toEqual(expected);
    await expect(resultsFile('g', 'generate', s, source(some))).rejects.toMatchObject({
      code: 'missing',
    });
  });
});

describe('scores', () => {
  const s: InferenceSpec = spec('score', llama);
  const outputs = new Map<number, Output>();
  for (const sh of rowShards(s)) {
    outputs.set(
      sh.shardId,
      inferenceOutput({
        scores: Float32Array.from({ length: sh.count }, (_, i) => -(sh.start + i) - 0.25),
      }),
    );
  }

  test('one line per row: its log-likelihood and the tokens it sums over', async () => {
    const file = await resultsFile('s', 'score', s, source(outputs));
    expect(file.name).toBe('scores-s.jsonl');
    const got = await lines(file.blob);
    expect(got).toHaveLength(texts.length);
    got.forEach((l, r) => {
      expect(l).toEqual({
        row: r,
        input: texts[r],
        output: null,
        tokens: s.sequences[r]!.length - 1,
        finish_reason: null,
        logprob: -r - 0.25,
      });
    });
    const wrong = new Map(outputs).set(
      rowShards(s)[2]!.shardId,
      inferenceOutput({ scores: new Float32Array(1) }),
    );
    await expect(resultsFile('s', 'score', s, source(wrong))).rejects.toMatchObject({
      code: 'shape',
    });
  });
});
