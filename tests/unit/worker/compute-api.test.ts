import { afterAll, describe, expect, test } from 'vitest';
import { MemoryTuneStore, TILE_CANDIDATES, tuneKey } from '../../../src/gpu/autotune';
import { isGpuError } from '../../../src/gpu/errors';
import { DEFAULT_TILE } from '../../../src/gpu/matmul';
import { loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { filesFromMap } from '../../../src/model/hf/files';
import { decoderForward } from '../../../src/model/hf/reference';
import type { DecoderConfig } from '../../../src/model/hf/types';
import { checkElementwise, matmulF64 } from '../../../src/reference/matmul';
import { createComputeApi } from '../../../src/worker/api';
import { withFaults } from '../../../src/worker/faults';
import { randomMatrix } from '../../support/gpu-fixture';
import { textCheckpointObject } from '../../support/hf-text-fixture';

describe('ComputeApi (the worker’s API, driven directly in Node)', () => {
  const store = new MemoryTuneStore();
  const api = createComputeApi({ tuneStore: store });
  /** The same API with fault injection, to lose its device on purpose. */
  const faults = withFaults(api);
  afterAll(() => api.dispose());

  test('reports the adapter without GPU work; tunes only when asked, and remembers it', async () => {
    const first = await api.info();
    expect(first.tuned).toBe(false);
    expect(first.tile).toEqual(DEFAULT_TILE);
    expect(first.gpuSubmits).toBe(0);
    expect(first.adapter?.architecture).not.toBe(undefined);
    expect(first).toMatchObject({ engine: 'webgpu', cpuCalls: 0 });
    const info = await api.tune();
    expect(info.tuned).toBe(true);
    expect(info.gpuSubmits).toBeGreaterThan(0);
    expect(TILE_CANDIDATES).toContainEqual(info.tile);
    expect(await store.get(tuneKey(info.adapter!))).toEqual(info.tile);
    // A second Worker on this adapter starts from the remembered tile, still without GPU work.
    const again = createComputeApi({ tuneStore: store });
    try {
      expect(await again.info()).toMatchObject({ tuned: true, tile: info.tile, gpuSubmits: 0 });
    } finally {
      await again.dispose();
    }
  });

  test('matmul matches the float64 reference within the bound', async () => {
    const [m, k, n] = [50, 70, 30];
    const a = randomMatrix(m * k, 5);
    const b = randomMatrix(k * n, 6);
    const c = await api.matmul(a, b, { m, k, n });
    const check = checkElementwise(
      c,
      matmulF64(a, b, { m, k, n }),
      matmulF64(a, b, { m, k, n }, true),
      k,
    );
    expect(check.ok).toBe(true);
  });

  test('a device lost mid-call fails that call with device-lost, then recovers', async () => {
    const [m, k, n] = [512, 512, 512]; // ~0.1 s on SwiftShader: surely still in flight
    const a = randomMatrix(m * k, 7);
    const b = randomMatrix(k * n, 8);
    const before = (await api.info()).deviceLosses;
    const inFlight = api.matmul(a, b, { m, k, n }).then(
      () => 'finished',
      (e: unknown) => e,
    );
    await faults.simulateDeviceLoss();
    expect(isGpuError(await inFlight, 'device-lost')).toBe(true);
    const info = await api.info();
    expect(info.deviceLosses).toBe(before + 1);
    const c = await api.matmul(a.subarray(0, 64), b.subarray(0, 64), { m: 8, k: 8, n: 8 });
    const exact = matmulF64(a.subarray(0, 64), b.subarray(0, 64), { m: 8, k: 8, n: 8 });
    expect(
      checkElementwise(
        c,
        exact,
        matmulF64(a.subarray(0, 64), b.subarray(0, 64), { m: 8, k: 8, n: 8 }, true),
        8,
      ).ok,
    ).toBe(true);
  });

  test('the loss of an idle device is noticed and the next call gets a new one', async () => {
    await faults.simulateDeviceLoss();
    expect(
      (await api.matmul(new Float32Array([2]), new Float32Array([3]), { m: 1, k: 1, n: 1 }))[0],
    ).toBe(6);
  });

  test('benchmark reports positive GFLOP/s and refuses silly sizes', async () => {
    const rows = await api.benchmark([64], 1);
    expect(rows[0]!.n).toBe(64);
    expect(rows[0]!.gflops).toBeGreaterThan(0);
    const err = await api.benchmark([0]).catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
  });

  test('non-Float32Array inputs are a typed error', async () => {
    const err = await api
      .matmul([1] as unknown as Float32Array, new Float32Array(1), { m: 1, k: 1, n: 1 })
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
  });
});

describe('ComputeApi models (a tiny Llama checkpoint in Hugging Face layout)', () => {
  // With fault injection (honest until a test sets a mode): the cheats are tested here too.
  const api = withFaults(createComputeApi({ tile: DEFAULT_TILE }));
  afterAll(() => api.dispose());
  const V = 64;
  /** Logits within TOL·(1 + max|reference|) of the float64 reference (as hf-run-gpu.test.ts). */
  const TOL = 1e-5;
  const files = () => textCheckpointObject('llama');
  const reference = async () => {
    const ck = await loadCheckpoint(filesFromMap(new Map(Object.entries(files()))));
    const c = ck.config as DecoderConfig;
    /** Logits after every token of each sequence. */
    return (seqs: number[][]) => seqs.map((s) => decoderForward(c, ck.weights, [s])[0]!);
  };
  const expectClose = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
    expect(got.length).toBe(want.length);
    const bound = TOL * (1 + Math.max(...Array.from(want, Math.abs)));
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i]! - want[i]!) <= bound)) {
        expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]} (bound ${bound})`);
      }
    }
  };
  const argmax = (v: ArrayLike<number>) => {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
    return best;
  };

  test('loads a checkpoint by content digest, runs a batch, and survives a device loss', async () => {
    const info = await api.loadModel(files());
    expect(info).toMatchObject({
      family: 'llama',
      architecture: 'LlamaForCausalLM',
      task: 'generate',
      vocab: V,
      maxPositions: 128,
      hiddenSize: 32,
      chatTemplate: true,
      eosTokenIds: [2],
    });
    expect(info.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(info.weightBytes).toBe(4 * info.params); // F32
    expect((await api.loadModel(files())).digest).toBe(info.digest); // same files, same name
    expect(await api.hasModel(info.digest)).toBe(true);
    const tokens = Uint32Array.from({ length: 3 * 5 }, (_, i) => (i * 7 + 3) % V);
    const logits = await api.logits(info.digest, tokens.slice(), 3, 5, 4);
    const ref = await reference();
    for (let b = 0; b < 3; b++) {
      const want = ref([Array.from(tokens.subarray(b * 5, b * 5 + 5))])[0]!.at(-1)!;
      expectClose(logits.subarray(b * V, (b + 1) * V), want, `seq ${b}`);
    }
    await api.simulateDeviceLoss();
    expect(await api.logits(info.digest, tokens.slice(), 3, 5, 4)).toEqual(logits); // re-uploaded
  });

  test('unknown models, bad checkpoints, bad tokenizers and bad calls are typed errors', async () => {
    await expect(api.logits('0'.repeat(64), new Uint32Array(1), 1, 1, 0)).rejects.toMatchObject({
      name: 'RequestError',
      code: 'unknown-model',
    });
    const noConfig = files();
    delete noConfig['config.json'];
    await expect(api.loadModel(noConfig)).rejects.toMatchObject({
      name: 'CheckpointError',
      code: 'missing-file',
    });
    await expect(
      api.loadModel({ ...files(), 'model.safetensors': new Uint8Array(3) }),
    ).rejects.toMatchObject({ name: 'CheckpointError', code: 'safetensors' });
    await expect(
      api.loadModel({ ...files(), 'tokenizer.json': new TextEncoder().encode('[1]') }),
    ).rejects.toMatchObject({ name: 'TokenizerError', code: 'json' });
    await expect(
      api.loadModel({ 'config.json': 'x' } as unknown as Record<string, Uint8Array>),
    ).rejects.toMatchObject({ name: 'RequestError', code: 'invalid-request' });
    const { digest } = await api.loadModel(files());
    const calls: [string, () => Promise<unknown>][] = [
      ['a token past the vocabulary', () => api.logits(digest, Uint32Array.of(V), 1, 1, 0)],
      ['from = seq', () => api.logits(digest, Uint32Array.of(1, 2), 1, 2, 2)],
      ['a short grid', () => api.logits(digest, Uint32Array.of(1, 2, 3), 2, 2, 0)],
      ['numbers, not a Uint32Array', () => api.logits(digest, [1] as never, 1, 1, 0)],
      [
        'one seed for two sequences',
        () =>
          api.generateTokens(digest, Uint32Array.of(1, 2), 2, 1, {
            steps: 2,
            temperature: 1,
            seeds: Uint32Array.of(1),
          }),
      ],
      ['embed on a generator', () => api.embed(digest, { texts: ['a'] })],
      ['no steps', () => api.generateTokens(digest, Uint32Array.of(1), 1, 1, {} as never)],
      [
        'past the positions', // 1 + 129 − 1 of 128: the last token drawn takes no position
        () =>
          api.generateTokens(digest, Uint32Array.of(1), 1, 1, {
            steps: 129,
            temperature: 0,
            seeds: new Uint32Array(0),
          }),
      ],
      ['two input fields', () => api.generate(digest, { prompts: ['a'], tokens: [[1]] })],
    ];
    for (const [what, call] of calls) {
      const e = await call().then(
        () => expect.fail(`${what}: no error`),
        (x: unknown) => x,
      );
      expect(e, what).toMatchObject({ name: 'RequestError' });
    }
  });

  test('logits at every position from one pass match the reference at each prefix', async () => {
    const { digest } = await api.loadModel(files());
    const ref = await reference();
    const [batch, seq, from] = [2, 9, 4];
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 5 + 2) % V);
    const got = await api.logits(digest, tokens.slice(), batch, seq, from);
    expect(got).toHaveLength(batch * (seq - from) * V);
    for (let b = 0; b < batch; b++) {
      const want = ref([Array.from(tokens.subarray(b * seq, (b + 1) * seq))])[0]!;
      for (let p = from; p < seq; p++) {
        const at = (b * (seq - from) + p - from) * V;
        expectClose(got.subarray(at, at + V), want[p]!, `seq ${b} position ${p}`);
      }
    }
  });

  test('generateTokens: greedy is the reference’s argmax; seeded sampling repeats per seed', async () => {
    const { digest } = await api.loadModel(files());
    const ref = await reference();
    const prompts = Uint32Array.from([5, 9, 3, 40, 6, 7, 8, 21]);
    const greedy = await api.generateTokens(digest, prompts.slice(), 2, 4, {
      steps: 6,
      temperature: 0,
      seeds: new Uint32Array(0),
    });
    for (let b = 0; b < 2; b++) {
      const seq = Array.from(prompts.subarray(b * 4, b * 4 + 4));
      for (let t = 0; t < 6; t++) {
        const row = ref([seq])[0]!.at(-1)!;
        const sorted = Array.from(row).sort((x, y) => y - x);
        // The same token wherever the top two are further apart than the bound allows.
        if (sorted[0]! - sorted[1]! > 2 * TOL * (1 + Math.abs(sorted[0]!))) {
          expect(greedy[b * 6 + t]).toBe(argmax(row));
        }
        seq.push(greedy[b * 6 + t]!);
      }
    }
    const opts = { steps: 6, temperature: 1, seeds: Uint32Array.from([11, 12]) };
    const once = await api.generateTokens(digest, prompts.slice(), 2, 4, opts);
    expect(await api.generateTokens(digest, prompts.slice(), 2, 4, opts)).toEqual(once);
    // Each sequence's draws depend on its own seed only.
    const swapped = await api.generateTokens(
      digest,
      Uint32Array.from([...prompts.subarray(4), ...prompts.subarray(0, 4)]),
      2,
      4,
      { ...opts, seeds: Uint32Array.from([12, 11]) },
    );
    expect(Array.from(swapped)).toEqual([...once.subarray(6), ...once.subarray(0, 6)]);
    const other = await api.generateTokens(digest, prompts.slice(), 2, 4, {
      ...opts,
      seeds: Uint32Array.from([13, 14]),
    });
    expect(other).not.toEqual(once);
  });

  test('test-mode cheats reach logits and tokens; the owner’s teacher-forced check never cheats', async () => {
    const { digest } = await api.loadModel(files());
    const t1 = Uint32Array.from([1, 2, 3, 4]);
    const t2 = Uint32Array.from([4, 3, 2, 1]);
    const greedy = { steps: 5, temperature: 0, seeds: new Uint32Array(0) };
    const honestLogits = await api.logits(digest, t1.slice(), 1, 4, 3);
    const honestTokens = await api.generateTokens(digest, t1.slice(), 1, 4, greedy);
    const honestRows = await api.logits(digest, t1.slice(), 1, 4, 1);
    try {
      await api.setTestMode({ cheat: 'perturb' });
      const perturbed = await api.logits(digest, t1.slice(), 1, 4, 3);
      expect(perturbed.filter((v, i) => v !== honestLogits[i])).toHaveLength(1);
      const changed = await api.generateTokens(digest, t1.slice(), 1, 4, greedy);
      expect(Array.from(changed).filter((v, i) => v !== honestTokens[i])).toHaveLength(1);
      expect(changed.every((t) => t < V)).toBe(true);
      expect(await api.logits(digest, t1.slice(), 1, 4, 1)).toEqual(honestRows);
      await api.setTestMode({ cheat: 'other-shard' });
      await api.generateTokens(digest, t1.slice(), 1, 4, greedy);
      expect(await api.generateTokens(digest, t2.slice(), 1, 4, greedy)).toEqual(honestTokens);
    } finally {
      await api.setTestMode({});
    }
  });

  test('text in: generate, score and embed through the tokenizer, on both engines', async () => {
    const llama = await api.loadModel(files());
    const bert = await api.loadModel(textCheckpointObject('bert'));
    expect(bert).toMatchObject({ task: 'embed', maxPositions: 40, hiddenSize: 32 });
    const run = async () => ({
      gen: await api.generate(llama.digest, {
        prompts: ['in the beginning', 'and'],
        maxNewTokens: 4,
        temperature: 0,
      }),
      chat: await api.generate(llama.digest, {
        chats: [[{ role: 'user', content: 'hi' }]],
        maxNewTokens: 2,
      }),
      score: await api.score(llama.digest, { texts: ['in the beginning'] }),
      embed: await api.embed(bert.digest, { texts: ['hello world', 'the'] }),
    });
    const gpu = await run();
    expect(gpu.gen.map((g) => g.promptTokens)).toEqual([17, 4]); // <s> + characters
    expect(gpu.chat[0]!.promptTokens).toBe('user: hi\nassistant:'.length);
    expect(gpu.score[0]!.logprobs).toHaveLength(16);
    expect(gpu.embed.map((v) => v.length)).toEqual([32, 32]);
    const before = (await api.info()).cpuCalls;
    await api.setEngine('cpu');
    try {
      const cpu = await run();
      expect((await api.info()).cpuCalls).toBeGreaterThan(before);
      for (const [i, g] of cpu.gen.entries()) expect(g.promptTokens).toBe(gpu.gen[i]!.promptTokens);
      expectClose(cpu.score[0]!.logprobs, gpu.score[0]!.logprobs, 'score cpu vs gpu');
      for (const [i, v] of cpu.embed.entries()) expectClose(v, gpu.embed[i]!, 'embed cpu vs gpu');
    } finally {
      await api.setEngine('webgpu');
    }
    // Back on the GPU, the weights the switch freed are uploaded again.
    const again = await api.score(llama.digest, { texts: ['in the beginning'] });
    expect(again[0]!.logprobs).toEqual(gpu.score[0]!.logprobs);
    await api.unloadModel(bert.digest);
    expect(await api.hasModel(bert.digest)).toBe(false);
    await expect(api.embed(bert.digest, { texts: ['a'] })).rejects.toMatchObject({
      code: 'unknown-model',
    });
  });
});
