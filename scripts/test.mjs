#!/usr/bin/env node
// `npm test`: every check, in the order that fails fastest. Installs Debian's chromium when it
// is missing and we are root (Playwright cannot download browsers here).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureChromium } from './chromium.mjs';

const bin = (name) => join('node_modules', '.bin', name);
const steps = [
  [
    'build the CPU engine (AssemblyScript → WebAssembly)',
    process.execPath,
    ['scripts/build-wasm.mjs'],
  ],
  ['lint and format (biome)', bin('biome'), ['check', '--error-on-warnings', '.']],
  ['types (tsc, strict)', bin('tsc'), ['--noEmit', '-p', '.']],
  ['unit tests (vitest, WebGPU on SwiftShader in Node)', bin('vitest'), ['run']],
  ['build (vite)', bin('vite'), ['build', '--logLevel', 'warn']],
  [
    'build the embed (vite library mode)',
    bin('vite'),
    ['build', '-c', 'vite.embed.config.ts', '--logLevel', 'warn'],
  ],
  ['end-to-end tests (playwright, headless chromium)', bin('playwright'), ['test']],
];

ensureChromium();
rmSync('test-results', { recursive: true, force: true });
const started = Date.now();
for (const [title, cmd, args] of steps) {
  console.log(`\n▶ ${title}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✗ ${title} failed (exit ${r.status ?? r.signal})`);
    summary();
    process.exit(1);
  }
}
summary();
console.log(`all checks passed in ${((Date.now() - started) / 1000).toFixed(0)} s`);

/** One closing line over both runners, e.g. `tests: 61 passed, 0 failed`. */
function summary() {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
    passed += v.numPassedTests;
    failed += v.numFailedTests;
    skipped += v.numPendingTests + v.numTodoTests;
  } catch {}
  try {
    const p = JSON.parse(readFileSync('test-results/e2e.json', 'utf8'));
    passed += p.stats.expected;
    failed += p.stats.unexpected + p.stats.flaky;
    skipped += p.stats.skipped;
  } catch {}
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}
