#!/usr/bin/env node
// `npm run bench`: tessel against a peer in the same run, in headless Chromium.
//   matmul: tessel's kernel vs TF.js's WebGPU backend on the same page and adapter
//   mesh:   tab-to-tab shard transfer, tessel's shard protocol vs a bare RTCDataChannel
//   scheduler: the owner's scheduler + verifier driven by 1,000 simulated contributors
//   inference: batched forward passes of the shipped model vs the same model in TF.js WebGPU
// Prints tables and writes bench/results/{matmul,mesh,scheduler,inference}.json.
//   npm run bench -- [--only matmul|mesh|scheduler|inference] [--sizes 256,512,1024] [--runs 3]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium.mjs';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    sizes: { type: 'string', default: '256,512,1024' },
    runs: { type: 'string', default: '3' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const valid =
  sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096) &&
  Number.isInteger(runs) &&
  runs >= 1 &&
  [undefined, 'matmul', 'mesh', 'scheduler', 'inference'].includes(values.only);
if (!valid) {
  console.error(
    'usage: npm run bench -- [--only matmul|mesh|scheduler|inference] [--sizes 256,512,1024] [--runs 3]',
  );
  process.exit(2);
}

ensureChromium();
await build({ configFile: 'bench/vite.config.ts' });
const server = await preview({
  configFile: 'bench/vite.config.ts',
  preview: { port: 0, host: '127.0.0.1' },
});
const base = server.resolvedUrls.local[0];
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
mkdirSync('bench/results', { recursive: true });
try {
  const want = (name) => values.only === undefined || values.only === name;
  if (want('matmul')) await matmulBench();
  if (want('mesh')) await meshBench();
  if (want('scheduler')) await schedulerBench();
  if (want('inference')) await inferenceBench();
} finally {
  await browser.close();
  await server.close();
}

async function matmulBench() {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  await page.goto(base);
  await page.waitForFunction(() => 'runMatmulBench' in globalThis);
  const result = await page.evaluate(([s, r]) => globalThis.runMatmulBench(s, r), [sizes, runs]);
  Object.assign(result, meta('TF.js 4.22 WebGPU backend (tf.matMul + data())'));
  console.log(
    `\nmatmul, ${result.adapter.description || result.adapter.architecture}, median of ${runs} after a warm-up`,
  );
  console.log('    n │ tessel GFLOP/s │ TF.js GFLOP/s │ ratio │ verify ms │ verify/compute');
  for (const r of result.rows) {
    console.log(
      `${String(r.n).padStart(5)} │ ${r.tessel_gflops.toFixed(2).padStart(14)} │ ${r.tfjs_gflops.toFixed(2).padStart(13)} │ ${r.ratio.toFixed(2).padStart(5)} │ ${r.verify_ms.toFixed(1).padStart(9)} │ ${(100 * r.verify_over_compute).toFixed(2).padStart(13)}%`,
    );
  }
  writeFileSync('bench/results/matmul.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/matmul.json');
  await page.close();
}

async function meshBench() {
  await build({ configFile: 'vite.relay.config.ts', logLevel: 'warn' });
  const keyDir = mkdtempSync(join(tmpdir(), 'tessel-bench-'));
  const relay = spawn(
    process.execPath,
    ['dist-relay/main.js', '--port', '0', '--key', join(keyDir, 'key')],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const line = await new Promise((resolve) =>
      createInterface({ input: relay.stdout }).once('line', resolve),
    );
    const relayAddr = JSON.parse(line).relay[0];
    // Two tabs in separate contexts, as two volunteers' browsers would be.
    const [a, b] = await Promise.all(
      [1, 2].map(async () => (await browser.newContext()).newPage()),
    );
    for (const p of [a, b]) {
      p.on('console', (m) => m.type() === 'error' && console.log(`  [page] ${m.text()}`));
      if (process.env.DEBUG_LIBP2P)
        await p.addInitScript((d) => localStorage.setItem('debug', d), process.env.DEBUG_LIBP2P);
      await p.goto(`${base}mesh.html`);
      await p.waitForFunction(() => 'meshStart' in globalThis);
    }
    const bytes = (process.env.BENCH_BYTES ?? `${1024},${1 << 20},${16 << 20}`)
      .split(',')
      .map(Number);
    const rounds = Math.max(runs, 5);
    const srv = await a.evaluate(([r]) => globalThis.meshStart(r, 'server'), [relayAddr]);
    await b.evaluate(([r]) => globalThis.meshStart(r, 'client'), [relayAddr]);
    const tessel = await b.evaluate(
      ([t, s, n]) => globalThis.meshRun(t, s, n),
      [srv.addr, bytes, rounds],
    );
    const offer = await b.evaluate(() => globalThis.rawOffer());
    const answer = await a.evaluate((o) => globalThis.rawAnswer(o), offer);
    const raw = await b.evaluate(
      ([ans, s, n]) => globalThis.rawRun(ans, s, n),
      [answer, bytes, rounds],
    );
    const rows = tessel.map((t, i) => ({
      bytes: t.bytes,
      rounds: t.rounds,
      tessel_mb_s: t.mb_s,
      tessel_round_trips_s: t.round_trips_s,
      raw_datachannel_mb_s: raw[i].mb_s,
      raw_datachannel_round_trips_s: raw[i].round_trips_s,
      ratio: t.mb_s / raw[i].mb_s,
    }));
    const result = {
      ...meta('a bare RTCDataChannel between the same two pages (64 KiB messages)'),
      rows,
    };
    console.log(
      `\nmesh: tab-to-tab over WebRTC on loopback, ${rounds} round trips (median; 1 KiB: mean of ${rounds * 40}), each a shard out and a verdict back`,
    );
    console.log('    shard │ tessel MB/s │ tessel rt/s │ raw DC MB/s │ raw DC rt/s │ ratio');
    for (const r of rows) {
      const size = r.bytes >= 1 << 20 ? `${r.bytes >> 20} MiB` : `${r.bytes >> 10} KiB`;
      console.log(
        `${size.padStart(9)} │ ${r.tessel_mb_s.toFixed(1).padStart(11)} │ ${r.tessel_round_trips_s.toFixed(1).padStart(11)} │ ${r.raw_datachannel_mb_s.toFixed(1).padStart(11)} │ ${r.raw_datachannel_round_trips_s.toFixed(1).padStart(11)} │ ${r.ratio.toFixed(2).padStart(5)}`,
      );
    }
    writeFileSync('bench/results/mesh.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log('wrote bench/results/mesh.json');
  } finally {
    relay.kill('SIGTERM');
  }
}

async function schedulerBench() {
  const page = await browser.newPage();
  await page.goto(`${base}scheduler.html`);
  await page.waitForFunction(() => 'runSchedulerBench' in globalThis);
  const options = { contributors: 1_000, shards: 100_000, dropoutRate: 0.05, cheatRate: 0.01 };
  const runs = await page.evaluate(([o, n]) => globalThis.runSchedulerBench(o, n), [options, 3]);
  const rates = runs.map((r) => r.shardsScheduledPerSecond).sort((x, y) => x - y);
  const result = {
    ...meta('none: the target is ≥ 5,000 shards scheduled per second'),
    options,
    median_shards_scheduled_per_s: rates[1],
    every_cheat_caught: runs.every(
      (r) => r.cheatsCaught === r.cheatsSubmitted && r.cheatsAccepted === 0,
    ),
    honest_rejected: runs.reduce((s, r) => s + r.honestRejected, 0),
    runs,
  };
  console.log(
    '\nscheduler: 1,000 simulated contributors, 100,000 shards, 5% dropping out, 1% cheating',
  );
  console.log(
    '  run │ shards/s (wall) │ leases │ speculative │ reassigned │ cheats caught │ cheaters quarantined │ virtual s',
  );
  for (const [i, r] of runs.entries()) {
    console.log(
      `${String(i + 1).padStart(5)} │ ${r.shardsScheduledPerSecond.toFixed(0).padStart(15)} │ ${String(r.leases).padStart(6)} │ ${String(r.speculative).padStart(11)} │ ${String(r.reassignments).padStart(10)} │ ${`${r.cheatsCaught}/${r.cheatsSubmitted}`.padStart(13)} │ ${`${r.cheatersQuarantined}/${r.cheaters}`.padStart(20)} │ ${r.virtualSeconds.toFixed(1).padStart(9)}`,
    );
  }
  writeFileSync('bench/results/scheduler.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/scheduler.json');
  await page.close();
}

async function inferenceBench() {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.log(`  [page] ${m.text()}`));
  await page.goto(`${base}inference.html`);
  await page.waitForFunction(() => 'runInferenceBench' in globalThis);
  const result = await page.evaluate(
    ([b, r]) => globalThis.runInferenceBench(b, r),
    [[1, 8, 32], runs],
  );
  Object.assign(
    result,
    meta('TF.js 4.22 WebGPU backend, same weights and ops (src/model/gpt-tf.ts)'),
  );
  const c = result.model.config;
  console.log(
    `\ninference: kjv-char (${c.nLayer} layers, d=${c.dModel}, ${c.nHead} heads, seq ${c.maxSeq}), median of ${runs}`,
  );
  console.log('  batch │ tessel tok/s │ tessel seq/s │ TF.js tok/s │ ratio │ max |Δlogit|');
  for (const r of result.rows) {
    console.log(
      `${String(r.batch).padStart(7)} │ ${r.tessel_tok_s.toFixed(0).padStart(12)} │ ${r.tessel_seq_s.toFixed(1).padStart(12)} │ ${r.peer_tok_s.toFixed(0).padStart(11)} │ ${r.ratio.toFixed(2).padStart(5)} │ ${r.max_abs_diff.toExponential(1).padStart(12)}`,
    );
  }
  writeFileSync('bench/results/inference.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/inference.json');
  await page.close();
}

function meta(peer) {
  return { browser: browser.version(), peer, date: new Date().toISOString() };
}
