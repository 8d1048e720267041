import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { checkElementwise, gammaF32, matmulF64 } from '../../src/gpu/reference';
import { gptForwardF64 } from '../../src/model/gpt';
import { loadGpt } from '../../src/model/load';
import { seededRng, uniform } from '../../src/model/rng';
import type { PageHandle } from '../../src/ui/handle';

type Tessel = PageHandle;

function random(length: number, seed: number): number[] {
  const rng = seededRng(seed);
  return Array.from({ length }, () => Math.fround(uniform(rng) * 2 - 1));
}

/** Runs a matmul in the page's Worker through comlink; reports whether inputs were transferred. */
async function workerMatmul(
  page: Page,
  a: number[],
  b: number[],
  shape: { m: number; k: number; n: number },
) {
  return page.evaluate(
    async ({ a, b, shape }) => {
      const { compute } = (globalThis as unknown as { tessel: Tessel }).tessel;
      const fa = Float32Array.from(a);
      const fb = Float32Array.from(b);
      const c = await compute.matmul(fa, fb, shape);
      return { c: Array.from(c), detached: fa.byteLength === 0 && fb.byteLength === 0 };
    },
    { a, b, shape },
  );
}

test.beforeEach(async ({ page }) => {
  page.on('pageerror', (e) => console.log('pageerror', e));
  await page.goto('/');
  await expect(page.locator('#adapter')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
});

test('the page shows the SwiftShader adapter found by its Worker, named as software', async ({
  page,
}) => {
  await expect(page.locator('#adapter')).toContainText(/swiftshader/i);
  await expect(page.locator('#adapter')).toContainText('software adapter');
  await expect(page.locator('#adapter-speed')).toContainText('when you switch Contribute on');
});

test('a matmul in the Worker (via comlink, inputs transferred) matches the CPU reference', async ({
  page,
}) => {
  for (const [m, k, n] of [
    [37, 53, 29],
    [128, 96, 160],
    [1, 1, 1],
  ] as const) {
    const a = random(m * k, m);
    const b = random(k * n, n + 1);
    const { c, detached } = await workerMatmul(page, a, b, { m, k, n });
    expect(detached).toBe(true);
    expect(c).toHaveLength(m * n);
    const check = checkElementwise(
      c,
      matmulF64(a, b, { m, k, n }),
      matmulF64(a, b, { m, k, n }, true),
      k,
    );
    expect(check.ok, `worst ratio ${check.worstRatio}`).toBe(true);
  }
});

test('Run and verify: the page computes, Freivalds accepts, and bad input is a clear error', async ({
  page,
}) => {
  await page.fill('#run-form input[name=m]', '96');
  await page.fill('#run-form input[name=k]', '64');
  await page.fill('#run-form input[name=n]', '80');
  await page.click('#run-button');
  await expect(page.locator('#run-result')).toHaveAttribute('data-verdict', 'accepted', {
    timeout: 60_000,
  });
  await expect(page.locator('#run-result')).toContainText('Verified');

  await page.fill('#run-form input[name=k]', '0');
  await page.click('#run-button');
  await expect(page.locator('#run-result')).toHaveText('K must be a whole number from 1 to 4096');
});

test('a lost device fails nothing silently: the worker recovers and computes again', async ({
  page,
}) => {
  const losses = await page.evaluate(async () => {
    const { compute } = (globalThis as unknown as { tessel: Tessel }).tessel;
    await compute.simulateDeviceLoss();
    return (await compute.info()).deviceLosses;
  });
  expect(losses).toBe(1);
  const a = random(20 * 30, 5);
  const b = random(30 * 10, 6);
  const { c } = await workerMatmul(page, a, b, { m: 20, k: 30, n: 10 });
  const check = checkElementwise(
    c,
    matmulF64(a, b, { m: 20, k: 30, n: 10 }),
    matmulF64(a, b, { m: 20, k: 30, n: 10 }, true),
    30,
  );
  expect(check.ok).toBe(true);
});

test('typed errors cross the worker boundary with their code', async ({ page }) => {
  const code = await page.evaluate(async () => {
    const { compute } = (globalThis as unknown as { tessel: Tessel }).tessel;
    try {
      await compute.matmul(new Float32Array(3), new Float32Array(4), { m: 2, k: 2, n: 2 });
      return 'no error';
    } catch (e) {
      return `${(e as { name: string }).name}/${(e as { code: string }).code}`;
    }
  });
  expect(code).toBe('GpuError/invalid-argument');
});

test('the Worker runs a shard of batched inference on the shipped model', async ({ page }) => {
  const dir = 'public/models/kjv-char';
  const file = new Uint8Array(readFileSync(`${dir}/model.safetensors`));
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
  const { config: c, weights } = await loadGpt(file, config);
  const [batch, seq] = [4, 48];
  const tokens = Array.from({ length: batch * seq }, (_, i) => (i * 5 + 1) % c.vocab);
  // The page fetches the model from the app, as a contributor would, and runs it in its Worker.
  const logits = await page.evaluate(
    async ({ tokens, batch, seq }) => {
      const { compute } = (globalThis as unknown as { tessel: Tessel }).tessel;
      const [file, config] = await Promise.all([
        fetch('/models/kjv-char/model.safetensors').then((r) => r.arrayBuffer()),
        fetch('/models/kjv-char/config.json').then((r) => r.json()),
      ]);
      const digest = await compute.loadModel(new Uint8Array(file), config);
      return Array.from(await compute.infer(digest, Uint32Array.from(tokens), batch, seq));
    },
    { tokens, batch, seq },
  );
  const want = gptForwardF64(c, weights, Uint32Array.from(tokens), batch, seq);
  expect(logits).toHaveLength(batch * c.vocab);
  const scale = Math.max(1, ...Array.from(want, Math.abs));
  for (let i = 0; i < want.length; i++) {
    expect(Math.abs(logits[i]! - want[i]!)).toBeLessThanOrEqual(c.nLayer * gammaF32(c.dFF) * scale);
  }
});

test('Try the model: the page generates text, and refuses characters the model never saw', async ({
  page,
}) => {
  await page.fill('#prompt', 'And Moses said, ');
  await page.click('#generate-button');
  await expect(page.locator('#generated')).toContainText('characters/s', { timeout: 60_000 });
  const text = (await page.locator('#generated').textContent()) ?? '';
  expect(text.startsWith('And Moses said, ')).toBe(true);
  expect(text.replace(/ \(\d+ characters\/s\)$/, '').length).toBe('And Moses said, '.length + 120);
  await page.fill('#prompt', 'Hello 🌍');
  await page.click('#generate-button');
  await expect(page.locator('#generated')).toContainText('never seen');
});
