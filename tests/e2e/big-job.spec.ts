import { readFileSync } from 'node:fs';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { readNpy, writeNpy } from '../../src/model/npy';
import { seededRng, uniform } from '../../src/model/rng';
import { checkElementwise, matmulF64 } from '../../src/reference/matmul';
import { type Relay, startRelay } from '../../src/relay/relay';

// A moderately big job as a new user runs it, through the page only: one researcher, three
// browser volunteers (two lending the CPU engine, one the far slower SwiftShader WebGPU), a
// 2048³ matmul auto-sharded by the owner. It must finish with a correct C, nobody slow may be
// quarantined, no tab may throw when a peer goes away, and a reload keeps the finished job
// with its download.

let relay: Relay;
test.beforeEach(async () => {
  relay = await startRelay({ port: 0, keyFile: 'test-results/relay-key' });
});
test.afterEach(async () => {
  await relay.stop().catch(() => {});
});

/** Uncaught errors per tab: the spec fails on any. */
const uncaught: string[] = [];

async function open(browser: Browser, name: string, engine?: 'webgpu'): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => {
    console.log(`[${name}] pageerror`, e);
    uncaught.push(`${name}: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.text().includes('WebSocket connection to')) return;
    if (m.type() === 'warning' || m.type() === 'error') console.log(`[${name}] ${m.text()}`);
  });
  const relayParam = `relay=${encodeURIComponent(relay.multiaddrs[0]!)}`;
  await page.goto(`/?${relayParam}${engine ? `&engine=${engine}` : ''}`);
  return page;
}

async function contribute(page: Page) {
  await page.getByRole('switch', { name: 'Contribute my GPU' }).check();
  await expect(page.locator('#contributor-status')).toHaveAttribute('data-phase', 'contributing', {
    timeout: 90_000,
  });
}

/** Rows of C checked exactly against float64 (every block of C has some: all its columns). */
function checkRows(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  size: number,
  rows: number[],
) {
  const k = size;
  const subA = new Float32Array(rows.length * k);
  const subC = new Float32Array(rows.length * size);
  for (const [i, r] of rows.entries()) {
    subA.set(a.subarray(r * k, (r + 1) * k), i * k);
    subC.set(c.subarray(r * size, (r + 1) * size), i * size);
  }
  const shape = { m: rows.length, k, n: size };
  return checkElementwise(subC, matmulF64(subA, b, shape), matmulF64(subA, b, shape, true), k);
}

test('a 2048³ matmul with three browser volunteers, one of them slow, finishes with a correct C; a reload keeps it', async ({
  browser,
}) => {
  test.setTimeout(420_000);
  uncaught.length = 0;
  const size = 2048;
  const researcher = await open(browser, 'researcher');
  const fast = [await open(browser, 'volunteer-1'), await open(browser, 'volunteer-2')];
  const slow = await open(browser, 'volunteer-slow', 'webgpu');
  for (const v of [...fast, slow]) await contribute(v);

  const rng = seededRng(22);
  const fill = () =>
    Float32Array.from({ length: size * size }, () => Math.fround(uniform(rng) * 2 - 1));
  const a = fill();
  const b = fill();
  for (const [id, m, name] of [
    ['#file-a', a, 'A.npy'],
    ['#file-b', b, 'B.npy'],
  ] as const) {
    await researcher.setInputFiles(id, {
      name,
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(writeNpy(m, [size, size])),
    });
  }
  // No block size: the owner sizes shards to the contributors it sees. A price a new
  // researcher's grant covers (the form shows the estimate against the balance).
  await researcher.fill('#mm-price', '0.1');
  const started = Date.now();
  await researcher.click('#submit-button');
  await expect(researcher.locator('#job-result')).toContainText('Submitted job', {
    timeout: 30_000,
  });
  const job = researcher.locator('#my-jobs > li').first();
  const progress = setInterval(async () => {
    const done = await job.getAttribute('data-accepted').catch(() => '?');
    const counts = [];
    for (const v of [...fast, slow])
      counts.push(
        await v
          .locator('#shards-verified')
          .textContent()
          .catch(() => '?'),
      );
    console.log(
      `${((Date.now() - started) / 1000).toFixed(1)} s: ${done} verified; volunteers ${counts}`,
    );
  }, 5_000);
  await expect(job).toHaveAttribute('data-state', 'done', { timeout: 360_000 });
  clearInterval(progress);
  const wallMs = Date.now() - started;
  const text = (await job.textContent()) ?? '';
  const blocks = /in (\d+×\d+) blocks/.exec(text)?.[1];
  const shards = /(\d+)\/(\d+) shards verified/.exec(text)?.[2];
  expect(blocks, 'the job says the block size chosen').toBeTruthy();
  console.log(
    `2048³ with 3 browser volunteers: ${(wallMs / 1000).toFixed(1)} s, ${shards} shards of ${blocks}`,
  );

  const [download] = await Promise.all([
    researcher.waitForEvent('download'),
    job.getByRole('button', { name: /^Download C \(\.npy\)/ }).click(),
  ]);
  const bytes = new Uint8Array(readFileSync(await download.path()));
  const c = readNpy(bytes);
  expect(c.shape).toEqual([size, size]);
  const rows = Array.from({ length: 48 }, (_, i) => Math.floor(((i + 0.5) * size) / 48));
  const check = checkRows(c.data as Float32Array, a, b, size, rows);
  expect(check.ok, `worst ratio ${check.worstRatio}`).toBe(true);

  // Slow is not dishonest: no volunteer was quarantined, and none was told it was.
  const peers = researcher.locator('#peers tr[data-quarantined="true"]');
  await expect(peers).toHaveCount(0);
  for (const v of [...fast, slow]) await expect(v.locator('#stopped-by li')).toHaveCount(0);

  // A volunteer goes away: nobody throws (stream errors are caught and logged).
  await fast[1]!.context().close();
  await researcher.waitForTimeout(12_000);

  // A reload keeps the finished job with its report and download.
  await researcher.reload();
  const kept = researcher.locator('#my-jobs > li').first();
  await expect(kept).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  const [again] = await Promise.all([
    researcher.waitForEvent('download'),
    kept.getByRole('button', { name: /^Download C \(\.npy\)/ }).click(),
  ]);
  expect(Buffer.compare(readFileSync(await again.path()), Buffer.from(bytes))).toBe(0);
  expect(uncaught).toEqual([]);
});
