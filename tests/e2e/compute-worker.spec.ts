import { expect, type Page, test } from '@playwright/test';
import { loadCheckpoint } from '../../src/model/hf/checkpoint';
import { filesFromDirectory } from '../../src/model/hf/files-node';
import { gpt2Forward } from '../../src/model/hf/reference';
import type { Gpt2Config } from '../../src/model/hf/types';
import { seededRng, uniform } from '../../src/model/rng';
import { checkElementwise, matmulF64 } from '../../src/reference/matmul';
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
  await page.goto('/?faults');
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
    const { compute, faults } = (globalThis as unknown as { tessel: Tessel }).tessel;
    await faults!.compute.simulateDeviceLoss();
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

test('the Worker loads the shipped checkpoint, runs a shard’s logits, generates and scores text', async ({
  page,
}) => {
  const dir = 'public/models/kjv-char';
  const ck = await loadCheckpoint(await filesFromDirectory(dir));
  const c = ck.config as Gpt2Config;
  const [batch, seq] = [4, 48];
  const tokens = Array.from({ length: batch * seq }, (_, i) => (i * 5 + 1) % c.vocabSize);
  // The page fetches the checkpoint from the app, as a contributor would, and runs it in its
  // Worker; the files cross by transfer.
  const got = await page.evaluate(
    async ({ tokens, batch, seq }) => {
      const { compute } = (globalThis as unknown as { tessel: Tessel }).tessel;
      const names = [
        'config.json',
        'generation_config.json',
        'model.safetensors',
        'tokenizer.json',
        'tokenizer_config.json',
      ];
      const files: Record<string, Uint8Array> = {};
      for (const n of names) {
        files[n] = new Uint8Array(await (await fetch(`/models/kjv-char/${n}`)).arrayBuffer());
      }
      const info = await compute.loadModel(files);
      const logits = await compute.logits(
        info.digest,
        Uint32Array.from(tokens),
        batch,
        seq,
        seq - 1,
      );
      const [gen] = await compute.generate(info.digest, {
        prompts: ['And Moses said, '],
        maxNewTokens: 12,
        seed: 1,
      });
      const [scored] = await compute.score(info.digest, { texts: ['In the beginning'] });
      const error = await compute.generate(info.digest, { prompts: [] }).then(
        () => 'no error',
        (e: { name: string; code: string }) => `${e.name}/${e.code}`,
      );
      const badFolder = await compute.loadModel({ 'model.safetensors': new Uint8Array(3) }).then(
        () => 'no error',
        (e: { name: string; code: string; file: string; field: string }) =>
          `${e.name}/${e.code}/${e.file}/${e.field}`,
      );
      return {
        info,
        badFolder,
        detached: files['model.safetensors']!.byteLength === 0,
        logits: Array.from(logits),
        gen,
        scored: { tokens: scored!.tokens.length, logprobs: Array.from(scored!.logprobs) },
        error,
      };
    },
    { tokens, batch, seq },
  );
  expect(got.info).toMatchObject({ digest: ck.digest, family: 'gpt2', task: 'generate' });
  expect(got.detached).toBe(true);
  expect(got.logits).toHaveLength(batch * c.vocabSize);
  for (let b = 0; b < batch; b++) {
    const want = gpt2Forward(c, ck.weights, [tokens.slice(b * seq, (b + 1) * seq)])[0]!.at(-1)!;
    // As tests/unit/model/hf-run-gpu.test.ts bounds a row: 1e-5·(1 + max|reference|).
    const bound = 1e-5 * (1 + Math.max(...Array.from(want, Math.abs)));
    for (let v = 0; v < c.vocabSize; v++) {
      expect(Math.abs(got.logits[b * c.vocabSize + v]! - want[v]!)).toBeLessThanOrEqual(bound);
    }
  }
  expect(got.gen!.promptTokens).toBeGreaterThan(0);
  expect(got.gen!.tokens.length).toBeGreaterThan(0);
  expect(got.gen!.tokens.length).toBeLessThanOrEqual(12);
  expect(got.scored.logprobs).toHaveLength(got.scored.tokens - 1);
  expect(got.scored.logprobs.every((l) => l <= 0)).toBe(true);
  expect(got.error).toBe('RequestError/invalid-request');
  // The typed error's file and field cross the Worker boundary too.
  expect(got.badFolder).toBe('CheckpointError/missing-file/config.json/');
});

test('Try a model: the shipped checkpoint loads from its URL and generates text', async ({
  page,
}) => {
  await page.locator('#load-shipped').click();
  await expect(page.locator('#model-info')).toHaveAttribute('data-task', 'generate', {
    timeout: 60_000,
  });
  await expect(page.locator('#model-family')).toHaveText('gpt2');
  await page.locator('#prompt').fill('And Moses said, ');
  await page.locator('#max-new-tokens').fill('40');
  await page.locator('#seed').fill('1');
  await page.locator('#generate-button').click();
  await expect(page.locator('#generate-stats')).toContainText('tokens/s', { timeout: 60_000 });
  await expect(page.locator('#generated')).toHaveAttribute('data-finish', /^(stop|length)$/);
  expect(((await page.locator('#generated').textContent()) ?? '').length).toBeGreaterThan(0);
});
