#!/usr/bin/env node
// Over 450 lines: the one entry point of every bench (options, the build, each bench's page and
// its peer, the JSON written); each bench's own logic lives in bench/.
// `npm run bench`: tessel against a peer in the same run, in headless Chromium.
// Peers are measured fairly (peer-bench.mjs, fair-bench.mjs): each side in a browser of its own,
// launched fresh for every run, sides alternating A B A B with the machine idle between, medians
// with min–max over the runs; `--load N` measures every side again beside N busy processes.
// Over 450 lines: one short function per bench, dispatched below.
//   matmul: tessel's WebGPU kernel vs TF.js's and ORT Web's WebGPU backends; the CPU engine vs
//     ORT Web's wasm backend, and against its 128-bit SIMD FMA peak
//   mesh:   tab-to-tab shard transfer, tessel's shard protocol vs a bare RTCDataChannel
//   scheduler: the owner's scheduler + verifier driven by 1,000 simulated contributors
//   inference: batched forward passes of the shipped model (a Hugging Face GPT-2 checkpoint) on
//     tessel's engines vs ORT Web (WebGPU, wasm) on its ONNX export and TF.js WebGPU
//   models: Hugging Face checkpoints at real shapes vs transformers.js (scripts/models-bench.mjs)
//   mesh-inference: a generation job on the app's real tabs: one contributor, two, and the
//     researcher's tab alone; model transfer; the owner's verification cost
//   ledger: receipts appended per second with proofs (vs bare Ed25519 signing), proof sizes in
//     a log of 10⁶ entries, the audit of a contributor holding 10,000 receipts
//   verify: the verifier on 10,000 honest shards (every tile, TF.js's kernel, structured inputs)
//     and on the cheats it must catch; its cost beside the compute it checks
//   scale: two contributor tabs' compute ÷ wall time, lease by lease and double-buffered; one
//     researcher, three relays and 50 headless contributors, a fifth of them and a relay killed
//     mid-job (scripts/scale-bench.mjs)
//   big-job: issue 22's 2048³ matmul sized by the owner, on the headless contributor alone and on
//     three browser volunteer tabs (scripts/big-job-bench.mjs)
//   workloads: data-set jobs (embed, generate) on 1, 2 and 4 headless contributors beside the
//     researcher alone, and the data-set kinds' catch rate and cost simulated (bench/workloads-*.ts)
// Prints tables and writes bench/results/{matmul,mesh,scheduler,inference,models,mesh-inference,ledger,verify,scale,big-job,workloads}.json.
//   npm run bench -- [--only matmul|mesh|scheduler|inference|models|mesh-inference|ledger|verify|scale|coldstart|gpu-node|big-job|workloads] [--sizes …] [--runs 3] [--reps 5] [--load 2]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { bigJobBench } from './big-job-bench.mjs';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium.mjs';
import { coldStartBench } from './coldstart-bench.mjs';
import { nodeGpuEnv } from './gpu-env.mjs';
import { modelsBench } from './models-bench.mjs';
import { inferenceBench, matmulBench } from './peer-bench.mjs';
import { scaleBench } from './scale-bench.mjs';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    sizes: { type: 'string', default: '256,512,1024' },
    runs: { type: 'string', default: '3' },
    reps: { type: 'string', default: '5' },
    load: { type: 'string', default: '0' },
    sides: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
/** Timed calls a side makes in one run (after a warm-up); the run's median counts. */
const reps = Number(values.reps);
/** Busy processes beside the second, loaded pass of the fair benches (0: no loaded pass). */
const load = Number(values.load);
const valid =
  sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096) &&
  [runs, reps].every((x) => Number.isInteger(x) && x >= 1) &&
  Number.isInteger(load) &&
  load >= 0 &&
  load <= 64 &&
  [
    undefined,
    'matmul',
    'mesh',
    'scheduler',
    'inference',
    'models',
    'mesh-inference',
    'ledger',
    'verify',
    'scale',
    'coldstart',
    'gpu-node',
    'big-job',
    'workloads',
  ].includes(values.only);
if (!valid) {
  console.error(
    'usage: npm run bench -- [--only matmul|mesh|scheduler|inference|models|mesh-inference|ledger|verify|scale|coldstart|gpu-node|big-job|workloads] [--sizes 256,512,1024] [--runs 3] [--reps 5] [--load 2] [--sides cpu,ort-wasm]',
  );
  process.exit(2);
}

ensureChromium();
await build({ configFile: 'bench/vite.config.ts' });
// ONNX Runtime Web fetches its WebAssembly at run time: serve the builds its bundles ask for.
mkdirSync('dist-bench/ort', { recursive: true });
for (const f of readdirSync('node_modules/onnxruntime-web/dist')) {
  if (/^ort-wasm-simd-threaded(\.asyncify)?\.(mjs|wasm)$/.test(f))
    cpSync(`node_modules/onnxruntime-web/dist/${f}`, `dist-bench/ort/${f}`);
}
const server = await preview({
  configFile: 'bench/vite.config.ts',
  preview: { port: 0, host: '127.0.0.1' },
});
const base = server.resolvedUrls.local[0];
/** A fresh browser: every side of a fair comparison gets its own. */
const newBrowser = () => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
// The benches that are not peer comparisons share one browser; the fair ones launch their own.
const browser = ['matmul', 'inference', 'models', 'workloads'].includes(values.only)
  ? null
  : await newBrowser();
const browserVersion = browser?.version();
mkdirSync('bench/results', { recursive: true });
try {
  const want = (name) => values.only === undefined || values.only === name;
  const peer = { base, newBrowser, sizes, runs, reps, load, sides: values.sides };
  if (want('matmul')) await matmulBench(peer);
  if (want('mesh')) await meshBench();
  if (want('scheduler')) await schedulerBench();
  if (want('inference')) await inferenceBench(peer);
  if (want('models')) await modelsBench({ base, newBrowser });
  if (want('mesh-inference')) await meshInferenceBench();
  if (want('ledger')) await ledgerBench();
  if (want('verify')) await verifyBench();
  if (want('coldstart')) await runColdStartBench();
  if (want('big-job')) await runBigJobBench();
  if (want('gpu-node')) await gpuNodeBench();
  if (want('scale')) await runScaleBench();
  if (want('workloads')) await runWorkloadsBench();
} finally {
  await browser?.close();
  await server.close();
}
// The workloads bench's owner ran in this process: something of its libp2p node outlives
// Mesh.stop() and would keep Node waiting.
if (values.only === 'workloads') process.exit(0);

async function meshBench() {
  const relay = await startRelayProcess();
  const relayAddr = relay.addr;
  try {
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
    relay.stop();
  }
}

/** The relay as its own process (as `npm start` runs it), on a free port with a throwaway key. */
async function startRelayProcess() {
  await build({ configFile: 'vite.node.config.ts', logLevel: 'warn' });
  const keyDir = mkdtempSync(join(tmpdir(), 'tessel-bench-'));
  const child = spawn(
    process.execPath,
    ['dist-relay/main.js', '--port', '0', '--key', join(keyDir, 'key')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  return { addr: JSON.parse(line).relay[0], stop: () => child.kill('SIGTERM') };
}

/**
 * A generation job (the default policy: one copy a shard, each checked by the researcher with
 * one teacher-forced pass) on the app's own tabs over a local relay: on one contributor tab, on
 * two, and the same sequences on the researcher's tab alone. Contributors run at budget 100%
 * (no idle share) so the tab counts compare compute, not the volunteer's setting.
 */
async function meshInferenceBench() {
  const relay = await startRelayProcess();
  await build({ logLevel: 'warn' });
  const app = await preview({ preview: { port: 0, host: '127.0.0.1' }, logLevel: 'warn' });
  const url = app.resolvedUrls.local[0];
  // The second contributor runs in a browser of its own, as a second volunteer's would: tabs of
  // one browser share its GPU process, and with it one (software) device.
  const second = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const open = async (name, b = browser) => {
    const page = await (await b.newContext()).newPage();
    page.on('console', (m) => m.type() === 'error' && console.log(`  [${name}] ${m.text()}`));
    await page.goto(`${url}?relay=${encodeURIComponent(relay.addr)}`);
    await page.evaluate(() => globalThis.tessel.join().then(() => {}));
    await page.locator('#mesh-status[data-state="ready"]').waitFor({ timeout: 120_000 });
    await page.locator('#budget').fill('100');
    return page;
  };
  try {
    const [researcher, one, two] = [
      await open('researcher'),
      await open('c1'),
      await open('c2', second),
    ];
    // Prompts: 32 lines of the training text, 16 characters each; 32 characters generated.
    const text = readFileSync('training/kjv-torah.txt', 'utf8').split('\n');
    const prompts = text
      .filter((l) => l.length >= 16)
      .slice(100, 132)
      .map((l) => l.slice(0, 16));
    const steps = 32;
    const job = async (contributors) => {
      const id = await researcher.evaluate(
        async ({ prompts, steps }) => {
          const { mesh } = globalThis.tessel;
          // The shipped checkpoint's files; its tokenizer.json maps each character to its id.
          const names = [
            'config.json',
            'generation_config.json',
            'model.safetensors',
            'tokenizer.json',
            'tokenizer_config.json',
          ];
          const files = {};
          for (const n of names) {
            files[n] = new Uint8Array(await (await fetch(`/models/kjv-char/${n}`)).arrayBuffer());
          }
          const { vocab } = JSON.parse(new TextDecoder().decode(files['tokenizer.json'])).model;
          const sequences = prompts.map((p) => Uint32Array.from(Array.from(p, (ch) => vocab[ch])));
          globalThis.benchT0 = performance.now();
          // A low price, so the researcher's grant pays for every run of the bench.
          const run = await mesh.submitInference(
            {
              model: { files, name: 'kjv-char' },
              sequences,
              output: { mode: 'tokens', steps, temperature: 0 },
            },
            { price: 0.001, budget: Number.POSITIVE_INFINITY },
          );
          globalThis.benchRun = run;
          return run.jobId;
        },
        { prompts, steps },
      );
      for (const c of contributors) await c.check('#contribute');
      const out = await researcher.evaluate(async () => {
        const { report } = await globalThis.benchRun.done;
        return {
          ms: performance.now() - globalThis.benchT0,
          report,
          shards: globalThis.benchRun.job.shardCount,
        };
      });
      // Read before switching off: a tab with no jobs of its own then leaves the mesh.
      const transfer = await contributors[0].evaluate(() =>
        globalThis.tessel.mesh.models.fetcher.fetched.at(-1),
      );
      for (const c of contributors) await c.uncheck('#contribute');
      return { id, ...out, transfer, seq_s: (prompts.length / out.ms) * 1000 };
    };
    // Warm-up: c1 has no model and fetches it from the researcher; its kernels compile.
    const warm = await job([one]);
    const transfer = warm.transfer;
    // c2 gets the model the same way, so neither timed run moves it.
    await job([two]);
    const single = await job([one]);
    const pair = await job([one, two]);
    const alone = await researcher.evaluate(
      async ({ prompts, steps }) => {
        const { compute, mesh } = globalThis.tessel;
        const digest = globalThis.benchRun.job.modelDigest;
        const tokenizer = await (await fetch('/models/kjv-char/tokenizer.json')).json();
        const { vocab } = tokenizer.model;
        const batch = Uint32Array.from(prompts.flatMap((p) => Array.from(p, (ch) => vocab[ch])));
        const t0 = performance.now();
        await compute.generateTokens(digest, batch, prompts.length, 16, {
          steps,
          temperature: 0,
          seeds: new Uint32Array(0),
        });
        void mesh;
        return performance.now() - t0;
      },
      { prompts, steps },
    );
    const row = (name, r) => ({
      run: name,
      wall_ms: r.ms,
      seq_s: r.seq_s,
      shards: r.shards,
      verify_ms: r.report.verifyMs,
      compute_ms: r.report.computeMs,
      verify_over_compute: r.report.verifyOverCompute,
      spot_checks: r.report.spotChecks,
      rejected: r.report.rejected,
    });
    const result = {
      ...meta('the researcher’s own tab generating the same 32 sequences alone, in one batch'),
      job: {
        sequences: prompts.length,
        prompt_chars: 16,
        steps,
        policy:
          'default for generated tokens (1 copy, every shard teacher-force checked by the owner)',
        contributors: 'c1 in the researcher’s browser, c2 in a second browser; budget 100%',
      },
      speedup_two_tabs: pair.seq_s / single.seq_s,
      verify_over_compute: pair.report.verifyOverCompute,
      alone_seq_s: (prompts.length / alone) * 1000,
      one_tab_seq_s: single.seq_s,
      two_tabs_seq_s: pair.seq_s,
      model_transfer: transfer
        ? {
            bytes: transfer.bytes,
            ms: transfer.ms,
            mb_s: transfer.bytes / transfer.ms / 1000,
            attempts: transfer.attempts,
          }
        : null,
      rows: [
        row('warm-up (c1 fetches the model)', warm),
        row('one contributor tab', single),
        row('two contributor tabs', pair),
      ],
    };
    console.log(
      `\nmesh inference: ${prompts.length} sequences, 16 characters + ${steps} generated, default policy, contributors at budget 100%`,
    );
    console.log(
      '  run                           │ wall s │ seq/s │ verify ms │ compute ms │ verify/compute',
    );
    for (const r of result.rows) {
      console.log(
        `  ${r.run.padEnd(30)}│ ${(r.wall_ms / 1000).toFixed(1).padStart(6)} │ ${r.seq_s.toFixed(2).padStart(5)} │ ${r.verify_ms.toFixed(0).padStart(9)} │ ${r.compute_ms.toFixed(0).padStart(10)} │ ${(100 * r.verify_over_compute).toFixed(1).padStart(13)}%`,
      );
    }
    console.log(
      `  researcher alone (one batch): ${result.alone_seq_s.toFixed(2)} seq/s; two tabs ÷ one: ${result.speedup_two_tabs.toFixed(2)}; model transfer ${result.model_transfer ? `${result.model_transfer.mb_s.toFixed(1)} MB/s (${(result.model_transfer.bytes / 1e6).toFixed(2)} MB in ${result.model_transfer.ms.toFixed(0)} ms)` : 'n/a'}`,
    );
    writeFileSync('bench/results/mesh-inference.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log('wrote bench/results/mesh-inference.json');
  } finally {
    await second.close();
    await app.close();
    relay.stop();
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

async function ledgerBench() {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.log(`  [page] ${m.text()}`));
  await page.goto(`${base}ledger.html`);
  await page.waitForFunction(() => 'runLedgerBench' in globalThis);
  const r = await page.evaluate(() => globalThis.runLedgerBench(2_000, 10_000));
  const result = {
    ...meta('bare Ed25519 signatures on the same page (an append signs twice)'),
    ...r,
  };
  console.log('\nledger, in the page (owner tab)');
  console.log(
    `  appends with proofs: ${r.appends_per_s.toFixed(0)}/s to IndexedDB (strict), ${r.appends_per_s_memory.toFixed(0)}/s in memory; peer: ${r.signatures_per_s.toFixed(0)} bare signatures/s`,
  );
  console.log(
    `  10⁶ entries: inclusion proof ${r.inclusion_proof_bytes_1e6} B, consistency proof ${r.consistency_proof_bytes_1e6} B, receipt bundle ${r.bundle_bytes_1e6} B (tree built in ${r.tree_1e6_build_ms.toFixed(0)} ms)`,
  );
  console.log(
    `  audit of a contributor with ${r.audit_receipts} receipts: ${r.audit_ms_10k.toFixed(0)} ms`,
  );
  writeFileSync('bench/results/ledger.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/ledger.json');
  await page.close();
}

async function verifyBench() {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`  [page] ${m.text()}`));
  await page.goto(base);
  await page.waitForFunction(() => 'runVerifyBench' in globalThis);
  const r = await page.evaluate(() => globalThis.runVerifyBench(10_000));
  // Collusion at the default logits policy: the owner's real inference job, trust and verifier
  // in Node (pure, seeded), 1,000 jobs per scenario.
  await build({
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: 'bench/collusion.ts',
      outDir: 'dist-bench-node/collusion',
      target: 'node20',
      emptyOutDir: true,
    },
  });
  const { collusionCatchRates } = await import(
    pathToFileURL(resolve('dist-bench-node/collusion/collusion.js')).href
  );
  const collusion = await collusionCatchRates({ jobs: 1000 });
  const result = {
    ...meta('TF.js 4.22 WebGPU kernel (another summation order)'),
    ...r,
    collusion,
  };
  console.log(`\nverification, ${r.adapter.description || r.adapter.architecture}`);
  console.log(
    `  honest shards: ${r.honest_shards}, rejected ${r.honest_rejected}; residual ÷ probabilistic bound: max ${r.honest_max_ratio.toFixed(3)}, 99.9th percentile ${r.honest_p999_ratio.toFixed(3)}; ${r.honest_recomputed_shards} shards needed ${r.honest_recomputed_rows} rows recomputed`,
  );
  for (const [name, c] of Object.entries(r.by_cheat)) {
    console.log(`  cheat "${name}": caught ${c.caught} of ${c.tried}`);
  }
  console.log(
    '  check ÷ product, whole n×n×n: the product on each engine, checked by each projector',
  );
  for (const c of r.verify_over_compute) {
    const checks = Object.keys(c.verify_ms)
      .map((p) => `${p} ${c.verify_ms[p].toFixed(1)} ms = ${(100 * c.ratio[p]).toFixed(2)}%`)
      .join(' │ ');
    console.log(
      `  n=${c.n} ${c.engine.padEnd(6)} product ${c.compute_ms.toFixed(0).padStart(6)} ms │ ${checks}`,
    );
  }
  console.log('  check ÷ product on the CPU engine, shapes far from square:');
  for (const c of r.verify_over_compute_shapes) {
    console.log(
      `  ${`${c.m}×${c.k}×${c.n}`.padEnd(15)} product ${c.compute_ms.toFixed(2).padStart(7)} ms │ check ${c.verify_ms.toFixed(2).padStart(7)} ms = ${(100 * c.ratio).toFixed(1)}%`,
    );
  }
  console.log('  collusion at the default logits policy, 1,000 jobs each:');
  for (const c of collusion.results) {
    const rate = c.catchRate === null ? '—' : `${(100 * c.catchRate).toFixed(1)}%`;
    console.log(
      `  ${c.scenario.padEnd(44)} caught in ${rate.padStart(6)} of jobs; wrong sequences assembled ${c.wrongSequencesAssembled}; honest caught ${c.honestCaught}; owner checks/shard ${c.ownerChecksPerShard.toFixed(3)}`,
    );
  }
  writeFileSync('bench/results/verify.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/verify.json');
  await page.close();
}

/** The WebGPU kernels in Node on Dawn's adapter: % of the adapter's fp32 peak. */
async function gpuNodeBench() {
  await build({
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: 'bench/gpu-node.ts',
      outDir: 'dist-bench-node/gpu',
      target: 'node20',
      emptyOutDir: true,
    },
  });
  const out = execFileSync(process.execPath, ['dist-bench-node/gpu/gpu-node.js'], {
    env: { ...process.env, ...nodeGpuEnv(process.env) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const r = JSON.parse(out.trim().split('\n').at(-1));
  const a = r.adapter;
  console.log(
    `\nNode (Dawn), ${a.vendor}/${a.architecture} ${a.description}${r.software ? ' (software)' : ''}: matmul n = ${r.n} ${r.gflops.toFixed(1)} GFLOP/s = ${r.percent_of_peak.toFixed(1)}% of ${r.peak_source === 'spec sheet' ? `the spec sheet's ${r.spec_peak_gflops}` : `the measured FMA throughput ${r.fma_peak_gflops.toFixed(1)}`} GFLOP/s (tile ${JSON.stringify(r.tile)})`,
  );
  writeFileSync(
    'bench/results/gpu-node.json',
    `${JSON.stringify({ ...meta('the adapter’s fp32 peak'), ...r }, null, 2)}\n`,
  );
  console.log('wrote bench/results/gpu-node.json');
}

async function runBigJobBench() {
  console.log('\nbig job: a 2048³ matmul, shards sized by the owner');
  const r = await bigJobBench({ browser, startRelayProcess });
  const result = { ...meta('the headless contributor (Dawn in Node) alone'), ...r };
  writeFileSync('bench/results/big-job.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/big-job.json');
}

async function runColdStartBench() {
  const r = await coldStartBench({ browser, startRelayProcess });
  const result = { ...meta('none: the target is 2 s on a software adapter'), ...r };
  const s = (ms) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
  const f = r.first_visit;
  const v = r.return_visit;
  console.log(
    `\ncold start (${r.adapter} adapter, lends ${r.engine}), from page load: first visit mesh joined ${s(f.mesh_joined_ms)}, job heard ${s(f.job_heard_ms)}, first shard computed ${s(f.from_load_ms)} (${s(f.from_switch_on_ms)} after the switch); return visit ${s(v.mesh_joined_ms)}, ${s(v.job_heard_ms)}, ${s(v.from_load_ms)}`,
  );
  writeFileSync('bench/results/coldstart.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/coldstart.json');
}

async function runScaleBench() {
  const { twoTabs, scale } = await scaleBench(browser);
  const swarm = {
    announce_p50_ms: scale.announce.p50_ms,
    announce_p95_ms: scale.announce.p95_ms,
    relay_bytes_over_shard_bytes: scale.relay_bytes_over_shard_bytes,
    shards_per_s: scale.shards_per_s,
    owner_cpu_share: scale.owner_cpu_share,
  };
  const result = twoTabs
    ? {
        ...meta('the same two tabs asking for one lease at a time (before double-buffering)'),
        two_tabs_compute_over_wall: twoTabs.after,
        two_tabs_compute_over_wall_before: twoTabs.before,
        two_tabs_compute_over_job_wall: twoTabs.job_after,
        two_tabs_compute_over_job_wall_before: twoTabs.job_before,
        ...swarm,
        two_tabs: twoTabs,
        scale,
      }
    : {
        ...meta('bench/results/scale.json: the same swarm without the market service'),
        ...swarm,
        scale,
      };
  if (twoTabs) {
    console.log(
      `\nscale: two contributor tabs, 1024³ matmul in ${twoTabs.block}² blocks, budget ${twoTabs.budget} (its rest excluded)`,
    );
    console.log(
      `  compute ÷ wall while working: ${(100 * twoTabs.before).toFixed(0)}% lease by lease → ${(100 * twoTabs.after).toFixed(0)}% double-buffered`,
    );
    console.log(
      `  compute ÷ the job's wall (submit to answer): ${(100 * twoTabs.job_before).toFixed(0)}% → ${(100 * twoTabs.job_after).toFixed(0)}%`,
    );
  }
  console.log(
    `scale: ${scale.contributors} headless contributors${scale.market ? ' with the market service' : ''}, ${scale.relays} relays, ${scale.killed_contributors} contributors and ${scale.killed_relays} relay killed at ${(scale.killed_at_ms / 1000).toFixed(1)} s`,
  );
  console.log(
    `  ${scale.job.shards} shards (${scale.job.m}×${scale.job.k}×${scale.job.n}) in ${(scale.wall_ms / 1000).toFixed(1)} s: ${scale.shards_per_s.toFixed(1)} shards/s; owner tab CPU ${(100 * scale.owner_cpu_share).toFixed(0)}%`,
  );
  console.log(
    `  announcement heard by ${scale.announce.heard_by}: p50 ${scale.announce.p50_ms} ms, p95 ${scale.announce.p95_ms} ms, max ${scale.announce.max_ms} ms`,
  );
  console.log(
    `  relay bytes ${(scale.relay_bytes / 1e6).toFixed(2)} MB ÷ shard bytes ${(scale.shard_bytes / 1e6).toFixed(1)} MB = ${(100 * scale.relay_bytes_over_shard_bytes).toFixed(2)}%; at rest the relays carry ${(scale.relay_bytes_per_s_at_rest / 1e3).toFixed(1)} kB/s`,
  );
  const file = `bench/results/${scale.market ? 'scale-market' : 'scale'}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

/**
 * Data-set jobs on the mesh and the data-set kinds' verification (bench/workloads-bench.ts), in
 * Node: the owner in this process, each headless contributor in its own. WORKLOADS_PARTS=mesh or
 * catch runs one part (the other is kept from the last workloads.json); WORKLOADS_SMOKE=1 runs
 * both at toy sizes (nothing written).
 */
async function runWorkloadsBench() {
  const { workloadsConfig, printWorkloads } = await import('./workloads-bench.mjs');
  const smoke = process.env.WORKLOADS_SMOKE === '1';
  const parts = process.env.WORKLOADS_PARTS;
  const relay = await startRelayProcess();
  await build({
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: true,
      rollupOptions: {
        input: {
          'workloads-bench': 'bench/workloads-bench.ts',
          'workloads-contributor': 'bench/workloads-contributor.ts',
        },
      },
      outDir: 'dist-bench-node/workloads',
      target: 'node20',
      emptyOutDir: true,
    },
  });
  const { workloadsBench } = await import(
    pathToFileURL(resolve('dist-bench-node/workloads/workloads-bench.js')).href
  );
  try {
    const r = await workloadsBench({
      ...workloadsConfig(smoke),
      relay: relay.addr,
      contributorScript: 'dist-bench-node/workloads/workloads-contributor.js',
      env: nodeGpuEnv(process.env),
      parts: { mesh: parts !== 'catch', catch: parts !== 'mesh' },
      log: (line) => console.log(line),
    });
    const file = 'bench/results/workloads.json';
    const result = printWorkloads(
      {
        ...meta('the researcher alone: the same shards on its own engine'),
        ...workloadsConfig(smoke).meta,
      },
      r,
      smoke ? undefined : file,
    );
    if (!smoke) {
      writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`wrote ${file}`);
    }
  } finally {
    relay.stop();
  }
}

function meta(peer) {
  return { browser: browserVersion, peer, date: new Date().toISOString() };
}
