import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { gammaF32 } from '../../src/gpu/reference';
import { gptForwardF64 } from '../../src/model/gpt';
import { GpuGpt } from '../../src/model/gpt-gpu';
import { loadGpt } from '../../src/model/load';
import { seededRng } from '../../src/model/rng';
import { generate } from '../../src/model/sample';
import { useGpu } from './gpu-fixture';

// The character-level model shipped in public/models/kjv-char (trained by `npm run train`).
const dir = 'public/models/kjv-char';
const file = new Uint8Array(readFileSync(`${dir}/model.safetensors`));
const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
const vocab: string[] = JSON.parse(readFileSync(`${dir}/vocab.json`, 'utf8'));
const encode = (s: string) => Array.from(s, (ch) => vocab.indexOf(ch));
const decode = (ids: number[]) => ids.map((i) => vocab[i]).join('');

const gpu = useGpu();
const model = await loadGpt(file, config);

describe('the shipped model', () => {
  test('its vocabulary and config agree, and it is small enough to ship', () => {
    expect(vocab).toHaveLength(model.config.vocab);
    expect(file.byteLength).toBeLessThan(4 * 2 ** 20);
    expect(encode('And God said').every((i) => i >= 0)).toBe(true);
  });

  test('GPU logits match the float64 reference within nLayer·γ_FF on the logit scale', async () => {
    const gpt = await GpuGpt.load(gpu.ctx, model.config, model.weights);
    const lines = [
      'In the beginning God created the heaven and the earth. And the e',
      'And Moses said unto the LORD, Wherefore hast thou afflicted thy s',
    ];
    const seq = 64;
    const tokens = Uint32Array.from(lines.flatMap((l) => encode(l.slice(0, seq))));
    const got = await gpt.forward(tokens, 2, seq);
    const want = gptForwardF64(model.config, model.weights, tokens, 2, seq);
    const scale = Math.max(1, ...Array.from(want, Math.abs));
    const bound = model.config.nLayer * gammaF32(model.config.dFF) * scale;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    expect(worst).toBeLessThanOrEqual(bound);
    gpt.destroy();
  });

  test('generation from a fixed seed is identical run after run on the same adapter', async () => {
    const gpt = await GpuGpt.load(gpu.ctx, model.config, model.weights);
    const prompt = encode('And the LORD spake unto Moses, saying, ');
    const a = await generate(gpt, prompt, 40, { temperature: 0.7, rng: seededRng(2026) });
    const b = await generate(gpt, prompt, 40, { temperature: 0.7, rng: seededRng(2026) });
    expect(a).toEqual(b);
    console.log(`sample: ${JSON.stringify(decode(a))}`);
    gpt.destroy();
  });
});
