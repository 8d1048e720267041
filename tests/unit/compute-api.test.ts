import { afterAll, describe, expect, test } from 'vitest';
import { MemoryTuneStore, TILE_CANDIDATES, tuneKey } from '../../src/gpu/autotune';
import { isGpuError } from '../../src/gpu/errors';
import { DEFAULT_TILE } from '../../src/gpu/matmul';
import { checkElementwise, matmulF64 } from '../../src/gpu/reference';
import { gptForwardF64, gptTensorShapes, parseGptConfig } from '../../src/model/gpt';
import { loadGpt } from '../../src/model/load';
import { writeSafetensors } from '../../src/model/safetensors';
import { createComputeApi } from '../../src/worker/api';
import { randomMatrix } from './gpu-fixture';

describe('ComputeApi (the worker’s API, driven directly in Node)', () => {
  const store = new MemoryTuneStore();
  const api = createComputeApi({ tuneStore: store });
  afterAll(() => api.dispose());

  test('autotunes once on the first device and reports the adapter', async () => {
    const info = await api.info();
    expect(info.tuned).toBe(true);
    expect(TILE_CANDIDATES).toContainEqual(info.tile);
    expect(await store.get(tuneKey(info.adapter))).toEqual(info.tile);
    expect(info.adapter.architecture).not.toBe(undefined);
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
});
