// The exported ONNX graph of the model (src/model/gpt-onnx.ts) run by ONNX Runtime Web's wasm
// backend in Node: the same logits as the float64 reference, within the GPU's bound.
import * as ort from 'onnxruntime-web/wasm';
import { expect, test } from 'vitest';
import { gammaF32 } from '../../src/gpu/reference';
import { gptForwardF64, gptWeightsFrom } from '../../src/model/gpt';
import { gptToOnnx, ONNX_INPUT, ONNX_OUTPUT } from '../../src/model/gpt-onnx';
import { readSafetensors } from '../../src/model/safetensors';
import { randomModelFile, tinyConfig } from './model-fixture';

test('ONNX Runtime runs the exported model to the reference logits', async () => {
  const config = tinyConfig;
  const weights = gptWeightsFrom(readSafetensors(randomModelFile(config, 7)).tensors, config);
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(gptToOnnx(config, weights));
  for (const [batch, seq] of [
    [1, 1],
    [3, 9],
    [2, 24],
  ] as const) {
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 11 + 3) % config.vocab);
    const feed = new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [batch, seq]);
    const out = await session.run({ [ONNX_INPUT]: feed });
    const got = out[ONNX_OUTPUT]!;
    expect(got.dims).toEqual([batch, config.vocab]);
    const want = gptForwardF64(config, weights, tokens, batch, seq);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    const tol = config.nLayer * gammaF32(config.dFF) * scale;
    const data = got.data as Float32Array;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(data[i]! - want[i]!));
    expect(worst).toBeLessThanOrEqual(tol);
  }
  await session.release();
});
