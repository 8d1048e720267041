#!/usr/bin/env node
// `npm run bench`: tessel against a peer on the same adapter in headless Chromium. Prints a
// table and writes bench/results/matmul.json.
//   npm run bench -- --sizes 256,512,1024 --runs 3
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium.mjs';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    runs: { type: 'string', default: '3' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
if (
  !sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096) ||
  !(Number.isInteger(runs) && runs >= 1)
) {
  console.error(
    'usage: npm run bench -- [--sizes 256,512,1024] [--runs 3]  (sizes 1..4096, runs ≥ 1)',
  );
  process.exit(2);
}

ensureChromium();
await build({ configFile: 'bench/vite.config.ts' });
const server = await preview({
  configFile: 'bench/vite.config.ts',
  preview: { port: 0, host: '127.0.0.1' },
});
const url = server.resolvedUrls.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => 'runMatmulBench' in globalThis);
  const result = await page.evaluate(([s, r]) => globalThis.runMatmulBench(s, r), [sizes, runs]);
  result.browser = browser.version();
  result.peer = 'TF.js 4.22 WebGPU backend (tf.matMul + data())';
  result.date = new Date().toISOString();

  console.log(
    `\nmatmul, ${result.adapter.description || result.adapter.architecture}, median of ${runs} after a warm-up`,
  );
  console.log('    n │ tessel GFLOP/s │ TF.js GFLOP/s │ ratio │ verify ms │ verify/compute');
  for (const r of result.rows) {
    console.log(
      `${String(r.n).padStart(5)} │ ${r.tessel_gflops.toFixed(2).padStart(14)} │ ${r.tfjs_gflops.toFixed(2).padStart(13)} │ ${r.ratio.toFixed(2).padStart(5)} │ ${r.verify_ms.toFixed(1).padStart(9)} │ ${(100 * r.verify_over_compute).toFixed(2).padStart(13)}%`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/matmul.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nwrote bench/results/matmul.json');
} finally {
  await browser.close();
  await server.close();
}
