import { describe, expect, test } from 'vitest';
import { gammaF32 } from '../../src/gpu/reference';
import {
  type GptConfig,
  gptForwardF64,
  gptWeightsFrom,
  ModelConfigError,
  parseGptConfig,
} from '../../src/model/gpt';
import { GpuGpt } from '../../src/model/gpt-gpu';
import { seededRng } from '../../src/model/rng';
import { readSafetensors, SafetensorsError } from '../../src/model/safetensors';
import { generate, sampleToken } from '../../src/model/sample';
import { useGpu } from './gpu-fixture';
import { randomModelFile, tinyConfig } from './model-fixture';

const gpu = useGpu();

const config: GptConfig = tinyConfig;

describe('GPT forward pass', () => {
  const weights = gptWeightsFrom(readSafetensors(randomModelFile(config, 100)).tensors, config);

  test.each([
    [1, 1],
    [3, 7],
    [2, 24],
  ])('GPU logits match the float64 reference (batch=%i, seq=%i)', async (batch, seq) => {
    const model = await GpuGpt.load(gpu.ctx, config, weights);
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 13 + 5) % config.vocab);
    const got = await model.forward(tokens, batch, seq);
    const want = gptForwardF64(config, weights, tokens, batch, seq);
    model.destroy();
    // Rounding compounds through each layer's FF-long dot products and layernorms: bound
    // nLayer·γ_FF on the logit scale. Measured worst: about 2% of it (printed below).
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    const tol = config.nLayer * gammaF32(config.dFF) * scale;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThanOrEqual(tol);
    console.log(
      `batch ${batch} seq ${seq}: worst |Δlogit| ${worst.toExponential(2)} = ${(worst / tol).toFixed(3)} of the bound`,
    );
  });

  test('the same tokens give bit-identical logits run after run', async () => {
    const model = await GpuGpt.load(gpu.ctx, config, weights);
    const tokens = Uint32Array.from({ length: 2 * 10 }, (_, i) => i % config.vocab);
    const first = await model.forward(tokens, 2, 10);
    for (let i = 0; i < 3; i++) expect(await model.forward(tokens, 2, 10)).toEqual(first);
    model.destroy();
  });

  test('bad tokens, batch and sequence lengths are typed errors', async () => {
    const model = await GpuGpt.load(gpu.ctx, config, weights);
    await expect(model.forward(Uint32Array.from([1, 37]), 1, 2)).rejects.toMatchObject({
      field: 'tokens',
    });
    await expect(model.forward(new Uint32Array(25), 1, 25)).rejects.toMatchObject({ field: 'seq' });
    await expect(model.forward(new Uint32Array(3), 1, 2)).rejects.toThrow(ModelConfigError);
    model.destroy();
  });
});

describe('model files', () => {
  test('a missing tensor or a wrong shape names the tensor', () => {
    const { tensors } = readSafetensors(randomModelFile(config, 1));
    tensors.delete('h.1.mlp.c_fc.bias');
    expect(() => gptWeightsFrom(tensors, config)).toThrowError(
      expect.objectContaining({
        name: 'SafetensorsError',
        code: 'missing-tensor',
        tensor: 'h.1.mlp.c_fc.bias',
      }),
    );
    const other = readSafetensors(randomModelFile({ ...config, dFF: 128 }, 1)).tensors;
    expect(() => gptWeightsFrom(other, config)).toThrow(SafetensorsError);
  });

  test.each([
    [{ ...config, dModel: 96 }, 'dModel'],
    [{ ...config, nHead: 0 }, 'nHead'],
    [{ ...config, nHead: 3 }, 'nHead'],
    [{ ...config, vocab: 'abc' }, 'vocab'],
    [{ ...config, eps: -1 }, 'eps'],
    [null, 'config'],
  ])('config %o is refused on %s', (raw, field) => {
    expect(() => parseGptConfig(raw)).toThrowError(
      expect.objectContaining({ name: 'ModelConfigError', field }),
    );
  });
});

describe('sampling', () => {
  const weights = gptWeightsFrom(readSafetensors(randomModelFile(config, 200)).tensors, config);

  test('greedy and seeded generation on the GPU repeat exactly, and greedy matches the reference', async () => {
    const model = await GpuGpt.load(gpu.ctx, config, weights);
    const prompt = [1, 2, 3];
    const a = await generate(model, prompt, 12, { temperature: 0.8, rng: seededRng(9) });
    const b = await generate(model, prompt, 12, { temperature: 0.8, rng: seededRng(9) });
    expect(a).toEqual(b);
    const greedy = await generate(model, prompt, 8);
    const reference = {
      config,
      forward: async (t: Uint32Array, batch: number, seq: number) =>
        gptForwardF64(config, weights, t, batch, seq),
    };
    expect(greedy).toEqual(await generate(reference, prompt, 8));
    expect(a.every((t) => t >= 0 && t < config.vocab)).toBe(true);
    model.destroy();
  });

  test('temperature draws follow softmax; bad temperatures are refused', () => {
    const rng = seededRng(4);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[sampleToken([0, Math.log(2), Math.log(7)], 1, rng)]!++;
    expect(counts[0]! / 20_000).toBeCloseTo(0.1, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(0.7, 1);
    expect(sampleToken([0.1, 3, -2], 0)).toBe(1);
    expect(() => sampleToken([1, 2], -1)).toThrow(RangeError);
    expect(() => sampleToken([1, 2], 1)).toThrow(RangeError);
  });
});
