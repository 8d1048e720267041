// The runtime over a loaded checkpoint (src/model/hf/session.ts, generate.ts, sampling.ts) on
// the tiny fixture checkpoints with the tokenizers of hf-text-fixture.ts: sampling as
// transformers' warpers order it, greedy tokens against the float64 reference, seeds, stop
// tokens and stop strings, batched generation against one prompt at a time (CPU and GPU),
// scores against log_softmax of the reference's logits, embeddings against the reference's
// pooling, truncation, and the typed errors.
//
// Bound: logits and log-probabilities within TOL·(1 + max|reference|), as hf-run-cpu.test.ts
// measures the engine (worst ~2e-6 of the scale); greedy tokens are compared wherever the
// reference's top two logits are further apart than twice that.

import { afterAll, describe, expect, test } from 'vitest';
import { CpuKernels } from '../../../src/cpu/kernels';
import { spawnNodeHelper } from '../../../src/cpu/node-threads';
import { filesFromMap } from '../../../src/model/hf/files';
import { type HfModel, loadHfModel } from '../../../src/model/hf/model';
import { bertForward, decoderForward, poolEmbeddings } from '../../../src/model/hf/reference';
import { RequestError } from '../../../src/model/hf/request-error';
import { CpuHfModel } from '../../../src/model/hf/run-cpu';
import { GpuHfModel } from '../../../src/model/hf/run-gpu';
import type { GenerateRequest } from '../../../src/model/hf/runtime-types';
import {
  keptWeights,
  nthLargest,
  pickToken,
  type SamplingParams,
} from '../../../src/model/hf/sampling';
import { HfSession } from '../../../src/model/hf/session';
import type { BertConfig, DecoderConfig } from '../../../src/model/hf/types';
import { seededRng } from '../../../src/model/rng';
import { sampleToken } from '../../../src/model/sample';
import { useGpu } from '../../support/gpu-fixture';
import type { HfFixtureKind } from '../../support/hf-checkpoints';
import { textCheckpointFiles } from '../../support/hf-text-fixture';

const TOL = 2e-5;
const gpu = useGpu();
const cpuEngine = CpuKernels.create({ threads: 1, spawn: spawnNodeHelper });
afterAll(async () => (await cpuEngine).dispose());

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function load(kind: HfFixtureKind, edit?: (files: Map<string, Uint8Array>) => void) {
  const files = textCheckpointFiles(kind);
  edit?.(files);
  return loadHfModel(filesFromMap(files));
}

/** Runs `fn` on a session of `model` on the CPU engine (or the GPU), disposed after. */
async function withSession<T>(
  model: HfModel,
  fn: (s: HfSession) => Promise<T>,
  on: 'cpu' | 'gpu' = 'cpu',
): Promise<T> {
  const runner =
    on === 'cpu'
      ? await CpuHfModel.load(await cpuEngine, model.checkpoint)
      : await GpuHfModel.load(gpu.ctx, model.checkpoint);
  const s = new HfSession(model, runner);
  try {
    return await fn(s);
  } finally {
    await s.dispose();
  }
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string) {
  expect(got.length).toBe(want.length);
  const bound = TOL * (1 + Math.max(...Array.from(want, Math.abs)));
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) {
      expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]} (bound ${bound})`);
    }
  }
}

const argmax = (v: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
};

describe('sampling (transformers’ order: temperature, top-k, top-p)', () => {
  const logits = Float32Array.from([1, 3, 2, 3, 0, -1]);
  const kept = (p: Partial<SamplingParams>) =>
    Array.from(keptWeights(logits, { temperature: 1, topK: 0, topP: 1, ...p }), (w, i) =>
      w > 0 ? i : -1,
    ).filter((i) => i >= 0);

  test('top-k keeps the k highest, and every token tied with the k-th', () => {
    expect(kept({ topK: 1 })).toEqual([1, 3]); // 3 and 3 tie
    expect(kept({ topK: 3 })).toEqual([1, 2, 3]);
    expect(kept({ topK: 6 })).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kept({ topK: 0 })).toHaveLength(6);
  });

  test('nthLargest (top-k’s threshold) is the sorted k-th, ties and all', () => {
    const rng = seededRng(3);
    for (let n = 1; n < 40; n++) {
      const a = Float64Array.from({ length: n }, () => rng.nextUint32() % 6);
      const sorted = Array.from(a).sort((x, y) => y - x);
      for (let k = 1; k <= n; k++) expect(nthLargest(Float64Array.from(a), k)).toBe(sorted[k - 1]);
    }
  });

  test('top-p keeps the smallest most likely set whose probability reaches p, at least one', () => {
    const p = Array.from(logits, Math.exp);
    const z = p.reduce((a, b) => a + b, 0);
    const [p1, p2] = [p[1]! / z, p[2]! / z]; // 3 (twice), then 2
    expect(kept({ topP: p1 * 0.5 })).toHaveLength(1); // one of the two tied
    expect(kept({ topP: 2 * p1 - 1e-9 })).toEqual([1, 3]);
    expect(kept({ topP: 2 * p1 + 1e-6 })).toEqual([1, 2, 3]);
    expect(kept({ topP: 2 * p1 + p2 - 1e-6 })).toEqual([1, 2, 3]);
    expect(kept({ topP: 1e-9 })).toHaveLength(1);
    // After top-k, top-p works on the renormalised rest.
    expect(kept({ topK: 3, topP: 0.99 })).toEqual([1, 2, 3]);
    // Temperature comes first: a low one sharpens the distribution, so fewer tokens reach p.
    expect(kept({ topP: 0.9 })).toEqual([1, 2, 3]);
    expect(kept({ temperature: 0.2, topP: 0.9 })).toEqual([1, 3]);
  });

  test('draws only kept tokens; with no cut it is exactly sampleToken’s draw', () => {
    const row = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.7) * 3);
    const full = { temperature: 0.8, topK: 0, topP: 1 };
    const a = seededRng(7);
    const b = seededRng(7);
    for (let i = 0; i < 200; i++) expect(pickToken(row, full, a)).toBe(sampleToken(row, 0.8, b));
    const top5 = new Set(
      Array.from(row, (l, i) => [l, i] as const)
        .sort((x, y) => y[0] - x[0])
        .slice(0, 5)
        .map(([, i]) => i),
    );
    const rng = seededRng(8);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) seen.add(pickToken(row, { ...full, topK: 5 }, rng));
    expect(seen).toEqual(top5);
    expect(pickToken(row, { temperature: 0, topK: 3, topP: 0.1 }, undefined)).toBe(argmax(row));
  });

  test('the repetition penalty divides positive logits and multiplies negative ones', () => {
    const row = Float32Array.from([2, 1.9, -1, -1.1]);
    const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.1 };
    expect(pickToken(row, greedy, undefined, [])).toBe(0);
    expect(pickToken(row, greedy, undefined, [0])).toBe(1); // 2 / 1.1 < 1.9
    const onlyNegative = Float32Array.from([-1, -1.05]);
    expect(pickToken(onlyNegative, greedy, undefined, [0])).toBe(1); // −1.1 < −1.05
  });
});

describe('generate', () => {
  const PROMPTS = [[1, 17, 5, 60, 22, 9, 41], [1, 2, 50, 11], [33]];

  test('greedy tokens are the float64 reference’s argmax, step after step', async () => {
    const model = await load('llama');
    const c = model.checkpoint.config as DecoderConfig;
    const gens = await withSession(model, (s) =>
      s.generate({ tokens: PROMPTS, maxNewTokens: 6, temperature: 0 }),
    );
    let compared = 0;
    for (const [b, g] of gens.entries()) {
      expect(g.promptTokens).toBe(PROMPTS[b]!.length);
      const seq = [...PROMPTS[b]!];
      for (const t of g.tokens) {
        const row = decoderForward(c, model.checkpoint.weights, [seq])[0]!.at(-1)!;
        const sorted = Array.from(row).sort((x, y) => y - x);
        if (sorted[0]! - sorted[1]! > 2 * TOL * (1 + Math.abs(sorted[0]!))) {
          expect(t).toBe(argmax(row));
          compared++;
        }
        seq.push(t);
      }
      // The fixture's eos (2) ends a sequence early; otherwise it runs to maxNewTokens.
      expect(g.finishReason).toBe(g.tokens.at(-1) === 2 ? 'stop' : 'length');
      if (g.finishReason === 'length') expect(g.tokens).toHaveLength(6);
    }
    expect(compared).toBeGreaterThan(8);
  });

  test('seeded sampling repeats per seed; other seeds differ; sequence i uses seed + i', async () => {
    const model = await load('qwen3');
    await withSession(model, async (s) => {
      const req: GenerateRequest = { tokens: PROMPTS, maxNewTokens: 8, temperature: 1, topK: 0 };
      const a = await s.generate({ ...req, seed: 5 });
      expect(await s.generate({ ...req, seed: 5 })).toEqual(a);
      const b = await s.generate({ ...req, seed: 6 });
      expect(b.map((g) => g.tokens)).not.toEqual(a.map((g) => g.tokens));
      // Sequence 1 at seed 5 is sequence 0 at seed 6.
      const alone = await s.generate({ ...req, tokens: [PROMPTS[1]!], seed: 6 });
      expect(alone[0]).toEqual(a[1]);
    });
  });

  test('eos ids from generation_config (an int or a list) end a sequence with finishReason stop', async () => {
    const base = await load('llama');
    const free = await withSession(base, (s) =>
      s.generate({ tokens: [PROMPTS[0]!], maxNewTokens: 10, temperature: 0 }),
    );
    const toks = free[0]!.tokens;
    // An eos at the 4th generated token's id (the first place it occurs).
    const eos = toks[3]!;
    const first = toks.indexOf(eos);
    for (const id of [eos, [63, eos]]) {
      const model = await load('llama', (f) =>
        f.set('generation_config.json', json({ bos_token_id: 1, eos_token_id: id })),
      );
      expect(model.info.eosTokenIds).toEqual(Array.isArray(id) ? id : [id]);
      const got = await withSession(model, (s) =>
        s.generate({ tokens: [PROMPTS[0]!], maxNewTokens: 10, temperature: 0 }),
      );
      expect(got[0]).toMatchObject({ tokens: toks.slice(0, first + 1), finishReason: 'stop' });
    }
  });

  test('a stop string ends a sequence at the token completing it; the text keeps it', async () => {
    const model = await load('llama', (f) =>
      f.set('generation_config.json', json({ eos_token_id: 63 })),
    );
    await withSession(model, async (s) => {
      const prompt = 'in the beginning';
      const [free] = await s.generate({ prompts: [prompt], maxNewTokens: 16, temperature: 0 });
      expect(free!.finishReason).toBe('length');
      const text = free!.text;
      expect(text.length).toBeGreaterThan(3);
      const stop = text.slice(1, 3);
      const decode = (ids: number[]) =>
        model.tokenizer!.decode(
          ids.filter((i) => i < model.tokenizer!.vocabSize),
          { skipSpecialTokens: true },
        );
      let k = 1;
      while (!decode(free!.tokens.slice(0, k)).includes(stop)) k++;
      const [got] = await s.generate({
        prompts: [prompt],
        maxNewTokens: 16,
        temperature: 0,
        stop: ['zzzz', stop],
      });
      expect(got).toMatchObject({ tokens: free!.tokens.slice(0, k), finishReason: 'stop' });
      expect(got!.text.endsWith(stop)).toBe(true);
    });
  });

  test.each(['cpu', 'gpu'] as const)(
    'a ragged batch (%s) gives what each prompt gives alone, finished sequences and all',
    async (on) => {
      // Sliding window 6: prompts longer than it. The eos is the token the shortest prompt
      // generates first, so that sequence finishes at once and steps padding beside the others.
      const free = await load('mistral');
      const [first] = await withSession(free, (s) =>
        s.generate({ tokens: [PROMPTS[2]!], maxNewTokens: 1, temperature: 0 }),
      );
      const eos = first!.tokens[0]!;
      const model = await load('mistral', (f) =>
        f.set('generation_config.json', json({ eos_token_id: eos })),
      );
      await withSession(
        model,
        async (s) => {
          for (const req of [
            { temperature: 0 },
            { temperature: 0.9, topK: 20, topP: 0.9, seed: 3 },
          ] as GenerateRequest[]) {
            const together = await s.generate({ ...req, tokens: PROMPTS, maxNewTokens: 7 });
            const reasons = together.map((g) => g.finishReason);
            if (req.temperature === 0) expect(reasons[2]).toBe('stop');
            expect(reasons).toContain('length');
            for (const [i, p] of PROMPTS.entries()) {
              const seed = req.seed === undefined ? {} : { seed: req.seed + i };
              const [alone] = await s.generate({ ...req, ...seed, tokens: [p], maxNewTokens: 7 });
              expect(together[i]).toEqual(alone);
            }
          }
        },
        on,
      );
    },
  );

  test('chats go through the chat template; maxNewTokens stops at the positions', async () => {
    const model = await load('gpt2'); // 32 positions
    await withSession(model, async (s) => {
      const [chat] = await s.generate({
        chats: [[{ role: 'user', content: 'hi' }]],
        maxNewTokens: 2,
        temperature: 0,
      });
      expect(chat!.promptTokens).toBe('user: hi\nassistant:'.length);
      const [long] = await s.generate({ tokens: [[5, 6, 7]], maxNewTokens: 100, temperature: 0 });
      expect(long!.tokens.length).toBeLessThanOrEqual(29);
      if (long!.finishReason === 'length') expect(long!.tokens).toHaveLength(29);
    });
  });
});

describe('score and embed', () => {
  test('score: log_softmax of the reference’s logits at each position', async () => {
    const model = await load('qwen2');
    const c = model.checkpoint.config as DecoderConfig;
    const seqs = [[1, 17, 5, 60, 22], [4, 9], [30]];
    const scores = await withSession(model, (s) => s.score({ tokens: seqs }));
    for (const [b, seq] of seqs.entries()) {
      const logits = decoderForward(c, model.checkpoint.weights, [seq])[0]!;
      const want = seq.slice(1).map((t, i) => {
        const row = logits[i]!;
        const m = Math.max(...row);
        return row[t]! - m - Math.log(row.reduce((a, l) => a + Math.exp(l - m), 0));
      });
      expect(scores[b]!.tokens).toEqual(seq);
      expectClose(scores[b]!.logprobs, want, `score ${b}`);
      expect(scores[b]!.total).toBeCloseTo(
        want.reduce((a, x) => a + x, 0),
        4,
      );
    }
    const [text] = await withSession(model, (s) => s.score({ texts: ['abc'] }));
    expect(text!.tokens).toEqual([1, 3, 4, 5]); // <s> a b c
  });

  const embedRef = (model: HfModel, seqs: number[][]) => {
    const c = model.checkpoint.config as BertConfig;
    return seqs.map((s) => {
      const hidden = bertForward(c, model.checkpoint.weights, [s]);
      const pooling = model.checkpoint.pooling ?? { mode: 'mean', normalize: false };
      return poolEmbeddings(hidden, [s.map(() => 1)], pooling)[0]!;
    });
  };

  test('embed: the checkpoint’s pooling (mean + Normalize), else mean; [CLS]/[SEP] from the tokenizer', async () => {
    const model = await load('bert');
    const texts = ['hello world', 'the', 'a b c d e f'];
    const ids = texts.map((t) => model.tokenizer!.encode(t));
    expect(ids[1]).toEqual([2, 4 + 19, 30 + 7, 30 + 4, 3]); // [CLS] t ##h ##e [SEP]
    const got = await withSession(model, (s) => s.embed({ texts }));
    for (const [i, want] of embedRef(model, ids).entries()) expectClose(got[i]!, want, `emb ${i}`);
    expect(Math.hypot(...got[0]!)).toBeCloseTo(1, 5);
    const plain = await load('bert', (f) => {
      f.delete('modules.json');
      f.delete('1_Pooling/config.json');
    });
    expect(plain.checkpoint.pooling).toBeUndefined();
    const mean = await withSession(plain, (s) => s.embed({ tokens: ids }));
    for (const [i, want] of embedRef(plain, ids).entries())
      expectClose(mean[i]!, want, `mean ${i}`);
    expect(Math.hypot(...mean[0]!)).not.toBeCloseTo(1, 2);
  });

  test('embed truncates to max_seq_length keeping [CLS] … [SEP], or refuses with a typed error', async () => {
    const model = await load('bert');
    expect(model.info.maxPositions).toBe(40); // sentence_bert_config.json
    const text = 'abcdefghij '.repeat(5); // 5 words of 10 letters: 52 tokens
    const ids = model.tokenizer!.encode(text);
    expect(ids.length).toBe(52);
    await withSession(model, async (s) => {
      const [cut] = await s.embed({ texts: [text] });
      const want = [...ids.slice(0, 39), 3];
      const [same] = await s.embed({ tokens: [want] });
      expect(cut).toEqual(same);
      const err = await s.embed({ texts: [text], truncate: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestError);
      expect((err as RequestError).code).toBe('too-long');
      const [tokensCut] = await s.embed({ tokens: [ids] });
      expect(tokensCut).toEqual((await s.embed({ tokens: [ids.slice(0, 40)] }))[0]);
    });
  });

  test('bad requests are typed errors', async () => {
    const llama = await load('llama');
    await withSession(llama, async (s) => {
      const bad: [string, () => Promise<unknown>, string][] = [
        ['no input', () => s.generate({}), 'invalid-request'],
        ['empty list', () => s.generate({ prompts: [] }), 'invalid-request'],
        ['an id past the vocabulary', () => s.generate({ tokens: [[64]] }), 'invalid-request'],
        [
          'a negative temperature',
          () => s.generate({ tokens: [[1]], temperature: -1 }),
          'invalid-request',
        ],
        ['top-p 0', () => s.generate({ tokens: [[1]], topP: 0 }), 'invalid-request'],
        ['top-k 1.5', () => s.generate({ tokens: [[1]], topK: 1.5 }), 'invalid-request'],
        [
          'an empty stop string',
          () => s.generate({ tokens: [[1]], stop: [''] }),
          'invalid-request',
        ],
        [
          'a prompt filling the positions',
          () => s.generate({ tokens: [new Array(128).fill(1)] }),
          'too-long',
        ],
        ['embed on a decoder', () => s.embed({ texts: ['a'] }), 'wrong-task'],
        ['a text as tokens', () => s.score({ tokens: ['ab' as never] }), 'invalid-request'],
      ];
      for (const [what, call, code] of bad) {
        const e = await call().then(
          () => expect.fail(`${what}: no error`),
          (x: unknown) => x,
        );
        expect(e, what).toBeInstanceOf(RequestError);
        expect((e as RequestError).code, what).toBe(code);
      }
      // A template error is the tokenizer's typed error.
      await expect(s.generate({ chats: ['x' as never] })).rejects.toMatchObject({
        name: 'TokenizerError',
        code: 'chat-template',
      });
    });
    const noTokenizer = await load('llama', (f) => f.delete('tokenizer.json'));
    expect(noTokenizer.tokenizer).toBeUndefined();
    await withSession(noTokenizer, async (s) => {
      await expect(s.generate({ prompts: ['a'] })).rejects.toMatchObject({
        name: 'CheckpointError',
        code: 'missing-file',
      });
      const [g] = await s.generate({ tokens: [[1, 2]], maxNewTokens: 2, temperature: 0 });
      expect(g!.text).toBe('');
    });
  });
});
