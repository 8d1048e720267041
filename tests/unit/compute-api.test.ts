import { afterAll, describe, expect, test } from 'vitest';
import { MemoryTuneStore, TILE_CANDIDATES, tuneKey } from '../../src/gpu/autotune';
import { isGpuError } from '../../src/gpu/errors';
import { DEFAULT_TILE } from '../../src/gpu/matmul';
import { checkElementwise, matmulF64 } from '../../src/gpu/reference';
import {
  gptForwardF64,
  gptTensorShapes,
  logitErrorBound,
  parseGptConfig,
} from '../../src/model/gpt';
import { loadGpt } from '../../src/model/load';
import { writeSafetensors } from '../../src/model/safetensors';
import { generateBatch } from '../../src/model/sample';
import { createComputeApi } from '../../src/worker/api';
import { randomMatrix } from './gpu-fixture';

describe('ComputeApi (the worker’s API, driven directly in Node)', () => {
  const store = new MemoryTuneStore();
  const api = createComputeApi({ tuneStore: store });
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
    await api.simulateDeviceLoss();
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
    await api.simulateDeviceLoss();
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

describe('ComputeApi inference', () => {
  const api = createComputeApi({ tile: DEFAULT_TILE });
  afterAll(() => api.dispose());
  const config = { vocab: 19, dModel: 64, nHead: 2, nLayer: 1, dFF: 128, maxSeq: 16 };

  function modelFile(): Uint8Array {
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    let seed = 40;
    for (const [name, shape] of Object.entries(gptTensorShapes(parseGptConfig(config)))) {
      const n = shape.reduce((a, b) => a * b, 1);
      tensors[name] = { shape, data: randomMatrix(n, seed++).map((v) => 0.3 * v) };
    }
    return writeSafetensors(tensors);
  }

  test('loads a model by content digest, runs a batch, and survives a device loss', async () => {
    const file = modelFile();
    const digest = await api.loadModel(file, config);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(await api.loadModel(file, config)).toBe(digest); // same bytes, same name
    const tokens = Uint32Array.from({ length: 3 * 5 }, (_, i) => i % 19);
    const logits = await api.infer(digest, tokens, 3, 5);
    const loaded = await loadGpt(file, config);
    const want = gptForwardF64(loaded.config, loaded.weights, tokens, 3, 5);
    for (let i = 0; i < want.length; i++)
      expect(Math.abs(logits[i]! - want[i]!)).toBeLessThan(1e-4);
    await api.simulateDeviceLoss();
    expect(await api.infer(digest, tokens, 3, 5)).toEqual(logits); // weights re-uploaded
  });

  test('unknown models, bad files and bad configs are typed errors', async () => {
    await expect(api.infer('0'.repeat(64), new Uint32Array(1), 1, 1)).rejects.toMatchObject({
      code: 'invalid-argument',
    });
    await expect(api.loadModel(new Uint8Array(3), config)).rejects.toMatchObject({
      name: 'SafetensorsError',
    });
    await expect(api.loadModel(modelFile(), { ...config, nLayer: 2 })).rejects.toMatchObject({
      name: 'SafetensorsError',
      code: 'missing-tensor',
    });
    await expect(api.loadModel(modelFile(), { ...config, dModel: 65 })).rejects.toMatchObject({
      name: 'ModelConfigError',
    });
  });

  test('logits at every position from one pass match the reference at each prefix', async () => {
    const file = modelFile();
    const digest = await api.loadModel(file, config);
    const { config: c, weights } = await loadGpt(file, config);
    const [batch, seq, from] = [2, 9, 4];
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 5 + 2) % 19);
    const got = await api.logitsFrom(digest, tokens.slice(), batch, seq, from);
    expect(got).toHaveLength(batch * (seq - from) * 19);
    for (let b = 0; b < batch; b++) {
      for (let p = from; p < seq; p++) {
        const prefix = tokens.slice(b * seq, b * seq + p + 1);
        const want = gptForwardF64(c, weights, prefix, 1, p + 1);
        const row = got.subarray(
          (b * (seq - from) + p - from) * 19,
          (b * (seq - from) + p - from + 1) * 19,
        );
        const tol = logitErrorBound(c, Math.max(...Array.from(want, Math.abs)));
        for (let v = 0; v < 19; v++) expect(Math.abs(row[v]! - want[v]!)).toBeLessThanOrEqual(tol);
      }
    }
    await expect(api.logitsFrom(digest, tokens.slice(), batch, seq, seq)).rejects.toMatchObject({
      code: 'invalid-argument',
    });
  });

  test('generation: greedy equals the reference; seeded sampling repeats per seed', async () => {
    const file = modelFile();
    const digest = await api.loadModel(file, config);
    const { config: c, weights } = await loadGpt(file, config);
    const prompts = Uint32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const greedy = await api.generate(digest, prompts.slice(), 2, 4, {
      steps: 6,
      temperature: 0,
      seeds: new Uint32Array(0),
    });
    const ref = {
      config: c,
      forward: async (t: Uint32Array, b: number, s: number) => gptForwardF64(c, weights, t, b, s),
    };
    expect(greedy).toEqual(
      await generateBatch(ref, prompts, 2, 4, {
        steps: 6,
        temperature: 0,
        seeds: new Uint32Array(0),
      }),
    );
    const opts = { steps: 6, temperature: 1, seeds: Uint32Array.from([11, 12]) };
    const once = await api.generate(digest, prompts.slice(), 2, 4, opts);
    expect(await api.generate(digest, prompts.slice(), 2, 4, opts)).toEqual(once);
    // Each sequence's draws depend on its own seed only.
    const swapped = await api.generate(digest, Uint32Array.from([5, 6, 7, 8, 1, 2, 3, 4]), 2, 4, {
      ...opts,
      seeds: Uint32Array.from([12, 11]),
    });
    expect(Array.from(swapped)).toEqual([...once.subarray(6), ...once.subarray(0, 6)]);
    await expect(
      api.generate(digest, prompts.slice(), 2, 4, { ...opts, seeds: Uint32Array.from([1]) }),
    ).rejects.toThrow(/seed/);
  });

  test('test-mode cheats reach inference: a perturbed logit, a changed token, another shard', async () => {
    const digest = await api.loadModel(modelFile(), config);
    const t1 = Uint32Array.from([1, 2, 3, 4]);
    const t2 = Uint32Array.from([4, 3, 2, 1]);
    const honestLogits = await api.infer(digest, t1.slice(), 1, 4);
    const honestTokens = await api.generate(digest, t1.slice(), 1, 4, {
      steps: 5,
      temperature: 0,
      seeds: new Uint32Array(0),
    });
    await api.setTestMode({ cheat: 'perturb' });
    const perturbed = await api.infer(digest, t1.slice(), 1, 4);
    expect(perturbed.filter((v, i) => v !== honestLogits[i])).toHaveLength(1);
    const changed = await api.generate(digest, t1.slice(), 1, 4, {
      steps: 5,
      temperature: 0,
      seeds: new Uint32Array(0),
    });
    expect(Array.from(changed).filter((v, i) => v !== honestTokens[i])).toHaveLength(1);
    expect(changed.every((t) => t < 19)).toBe(true);
    await api.setTestMode({ cheat: 'other-shard' });
    const greedy = { steps: 5, temperature: 0, seeds: new Uint32Array(0) };
    await api.generate(digest, t1.slice(), 1, 4, greedy);
    expect(await api.generate(digest, t2.slice(), 1, 4, greedy)).toEqual(honestTokens);
    // The owner's check never cheats, whatever the tab's test mode.
    const honestRows = await api.logitsFrom(digest, t1.slice(), 1, 4, 3);
    expect(honestRows).toEqual(honestLogits);
    await api.setTestMode({});
  });
});
