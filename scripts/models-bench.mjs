// `npm run bench -- --only models` (scripts/bench.mjs calls modelsBench): tessel's two engines
// beside transformers.js v4 on the same checkpoints — random weights at the shapes of
// all-MiniLM-L6-v2 (embeddings/s), SmolLM2-135M (prefill and decode tokens/s) and Qwen2.5-0.5B
// (decode) — each tessel engine against transformers.js on the matching backend: WebGPU ↔
// webgpu, the CPU engine ↔ wasm (fp32, and transformers.js's default q8). Writes
// bench/results/models.json.
//
// Fairness (issue 23 item 9): every side runs in a page of its own in a fresh browser, sides
// alternate within each run (A B A B), nothing else runs; rows report the median over runs with
// min–max over every timed iteration. Outputs (pooled embeddings, last-slot logits after the
// same fixed tokens) are compared between each tessel engine and transformers.js fp32 on the
// matching backend. SwiftShader (the CI machine's WebGPU) computes ~1 GFLOP/s, so WebGPU rows
// run smaller batches, fewer prompt tokens and fewer steps: every reduction is in the printed
// table and in the JSON (`reductions`).
//
// Standalone (the bench page built, a preview server and Chromium started here):
//   node scripts/models-bench.mjs [--smoke] [--models minilm,smollm2,qwen25] [--runs N]
//     [--sides tessel-cpu,tjs-wasm,...] [--layers qwen25=0,smollm2=2]
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { PAIRS, print, summarize } from '../bench/models-report.mjs';

/** Where the checkpoint folders are written (reused while complete; MODELS_BENCH_DIR overrides). */
const MODELS_DIR =
  process.env.MODELS_BENCH_DIR ?? resolve('node_modules/.cache/tessel-models-bench');

/** One side's limit (seconds, load included): past it the side is recorded as failed, so a
 * stalled browser cannot hold the bench (MODELS_BENCH_SIDE_TIMEOUT_S overrides). */
const SIDE_TIMEOUT_S = Number(process.env.MODELS_BENCH_SIDE_TIMEOUT_S ?? 300);

/** The full bench: the issue's rows; WebGPU reduced to fit SwiftShader (see `reductions`). */
export const FULL_PLAN = {
  runs: {
    // Qwen2.5-0.5B: one run (a side loads 2 GB in ~30 s), to keep the bench near 10 minutes.
    cpu: { minilm: 2, smollm2: 2, qwen25: 1 },
    webgpu: { minilm: 1, smollm2: 1, qwen25: 1 },
  },
  // SwiftShader runs a real-depth decoder's step in minutes: WebGPU decoders keep their real
  // widths, heads and vocabulary with 2 layers (stated in `reductions`).
  layers: { cpu: {}, webgpu: { smollm2: 2, qwen25: 2 } },
  cpu: {
    minilm: [{ kind: 'embed', batch: 32, seq: 128 }],
    smollm2: [
      { kind: 'prefill', seq: 512 },
      { kind: 'decode', batch: 1, prompt: 16, steps: 8 },
      { kind: 'decode', batch: 8, prompt: 16, steps: 4 },
    ],
    qwen25: [{ kind: 'decode', batch: 1, prompt: 16, steps: 4 }],
  },
  webgpu: {
    minilm: [{ kind: 'embed', batch: 1, seq: 128 }],
    smollm2: [
      { kind: 'prefill', seq: 16 },
      { kind: 'decode', batch: 1, prompt: 4, steps: 2 },
      { kind: 'decode', batch: 8, prompt: 4, steps: 1 },
    ],
    qwen25: [{ kind: 'decode', batch: 1, prompt: 4, steps: 1 }],
  },
  iterations: { cpu: 1, webgpu: 1 },
};

/** A smoke run: real widths and vocabularies, 1–2 layers, small batches. */
export const SMOKE_PLAN = {
  runs: {
    cpu: { minilm: 1, smollm2: 1, qwen25: 1 },
    webgpu: { minilm: 1, smollm2: 1, qwen25: 1 },
  },
  layers: {
    cpu: { minilm: 2, smollm2: 2, qwen25: 1 },
    webgpu: { minilm: 2, smollm2: 2, qwen25: 1 },
  },
  cpu: {
    minilm: [{ kind: 'embed', batch: 8, seq: 128 }],
    smollm2: [
      { kind: 'prefill', seq: 128 },
      { kind: 'decode', batch: 1, prompt: 8, steps: 4 },
      { kind: 'decode', batch: 8, prompt: 8, steps: 2 },
    ],
    qwen25: [{ kind: 'decode', batch: 1, prompt: 8, steps: 2 }],
  },
  webgpu: {
    minilm: [{ kind: 'embed', batch: 2, seq: 32 }],
    smollm2: [
      { kind: 'prefill', seq: 16 },
      { kind: 'decode', batch: 1, prompt: 8, steps: 2 },
      { kind: 'decode', batch: 8, prompt: 8, steps: 1 },
    ],
    qwen25: [{ kind: 'decode', batch: 1, prompt: 8, steps: 1 }],
  },
  iterations: { cpu: 1, webgpu: 1 },
};

/** Builds and runs bench/models-prepare.ts in its own process (Qwen2.5-0.5B's export holds
 * several GB while it runs). */
let prepareBuilt = false;
async function prepare(models, layers) {
  if (!prepareBuilt) await buildPrepare();
  prepareBuilt = true;
  mkdirSync(MODELS_DIR, { recursive: true });
  const out = execFileSync(
    process.execPath,
    [
      'dist-bench-node/models/models-prepare.js',
      JSON.stringify({ root: MODELS_DIR, models, layers }),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  return JSON.parse(out.trim().split('\n').at(-1));
}

async function buildPrepare() {
  await build({
    configFile: false,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: 'bench/models-prepare.ts',
      outDir: 'dist-bench-node/models',
      target: 'node20',
      emptyOutDir: true,
    },
  });
}

/** Serves the folders and transformers.js's ONNX Runtime wasm from the bench site (same origin:
 * the page is cross-origin isolated and ORT starts its threads from its script's URL). */
function publish(site) {
  const link = resolve(site, 'models-bench-files');
  rmSync(link, { recursive: true, force: true });
  symlinkSync(MODELS_DIR, link, 'dir');
  const nested = 'node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist';
  const dist = existsSync(nested) ? nested : 'node_modules/onnxruntime-web/dist';
  mkdirSync(join(site, 'tjs-ort'), { recursive: true });
  for (const ext of ['mjs', 'wasm']) {
    const f = `ort-wasm-simd-threaded.asyncify.${ext}`;
    cpSync(join(dist, f), join(site, 'tjs-ort', f));
  }
}

/**
 * Proportional set size (bytes) of every process descending from this one: while a side runs
 * that is its browser alone (one at a time; the preview server is in this process). Linux only
 * (/proc/<pid>/smaps_rollup); null elsewhere. PSS splits shared pages between processes, so the
 * sum counts each page once.
 */
function browserPss() {
  if (!existsSync('/proc/self/smaps_rollup')) return null;
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {} // exited meanwhile
  }
  let bytes = 0;
  for (const pid of parent.keys()) {
    let p = parent.get(pid);
    while (p && p !== process.pid && p !== 1) p = parent.get(p);
    if (p !== process.pid) continue;
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) bytes += Number(m[1]) * 1024;
    } catch {}
  }
  return bytes;
}

/** One side, one run: a fresh browser, one page, one call; the browser's peak PSS sampled. */
async function runSide(base, newBrowser, spec) {
  const browser = await newBrowser();
  let peak = browserPss();
  const sampler = setInterval(() => {
    const now = browserPss();
    if (now !== null) peak = Math.max(peak, now);
  }, 500);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`  [page] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.log(`  [page error] ${e.message}`));
    await page.goto(`${base}models.html`);
    await page.waitForFunction(() => 'runModelSide' in globalThis);
    const idle = browserPss();
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`over ${SIDE_TIMEOUT_S} s`)),
        SIDE_TIMEOUT_S * 1000,
      );
    });
    const r = await Promise.race([
      page.evaluate((s) => globalThis.runModelSide(s), spec),
      limit,
    ]).finally(() => clearTimeout(timer));
    return { ...r, browser_pss_bytes: { idle_page: idle, peak } };
  } catch (e) {
    return { side: spec.side, error: String(e?.message ?? e).split('\n')[0] };
  } finally {
    clearInterval(sampler);
    await browser.close();
  }
}

/**
 * The models bench: prints its table and writes bench/results/models.json.
 * @param {{ base: string, newBrowser: () => Promise<import('playwright-core').Browser>,
 *   plan?: typeof FULL_PLAN, models?: string[], site?: string }} args base: the bench preview
 *   server's URL; site: the folder it serves (the bench build's outDir)
 */
export async function modelsBench({
  base,
  newBrowser,
  plan = FULL_PLAN,
  models,
  sides: only,
  site = 'dist-bench',
}) {
  const started = performance.now();
  const names = models ?? ['minilm', 'smollm2', 'qwen25'];
  console.log(`\nmodels: writing checkpoints and ONNX exports under ${MODELS_DIR}`);
  const prepared = {};
  for (const engine of Object.keys(PAIRS))
    prepared[engine] = await prepare(names, plan.layers[engine]);
  publish(site);
  const threads = Number(process.env.MODELS_BENCH_THREADS ?? 2);
  const raw = []; // every side's result, with its run
  for (const name of names) {
    const sides = [];
    for (const [engine, pair] of Object.entries(PAIRS)) {
      for (const side of [pair.tessel, ...pair.tjs]) {
        if (!only || only.includes(side)) sides.push({ engine, side });
      }
    }
    const runs = Math.max(...Object.values(plan.runs).map((r) => r[name]));
    for (let run = 0; run < runs; run++) {
      // A B A B: tessel, then its peers, engine by engine; the order flips every other run.
      const order = (run % 2 ? [...sides].reverse() : sides).filter(
        ({ engine }) => run < plan.runs[engine][name],
      );
      for (const { engine, side } of order) {
        const p = prepared[engine].find((x) => x.name === name);
        const spec = {
          side,
          folder: p.folder,
          tasks: plan[engine][p.name],
          iterations: plan.iterations[engine],
          threads,
        };
        const t0 = performance.now();
        const r = await runSide(base, newBrowser, spec);
        const secs = ((performance.now() - t0) / 1000).toFixed(1);
        console.log(
          `  ${p.name} run ${run + 1} ${side}: ${r.error ? `FAILED ${r.error}` : 'ok'} (${secs} s)`,
        );
        raw.push({ model: p.name, run, engine, ...r });
      }
    }
  }
  const result = summarize(MODELS_DIR, prepared, plan, raw, threads);
  result.wall_s = (performance.now() - started) / 1000;
  print(result);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/models.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote bench/results/models.json (${result.wall_s.toFixed(0)} s)`);
  return result;
}

// Standalone: build the bench site, serve it, launch Chromium per side.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      models: { type: 'string' },
      runs: { type: 'string' },
      sides: { type: 'string' },
      layers: { type: 'string' },
    },
  });
  const { chromium } = await import('playwright-core');
  const { preview } = await import('vite');
  const { CHROMIUM, CHROMIUM_ARGS, ensureChromium } = await import('./chromium.mjs');
  ensureChromium();
  const plan = structuredClone(values.smoke ? SMOKE_PLAN : FULL_PLAN);
  // --layers qwen25=24,smollm2=2: a layer count per model (0: the model's own).
  for (const kv of values.layers?.split(',') ?? []) {
    const [m, n] = kv.split('=');
    for (const layers of Object.values(plan.layers)) {
      if (Number(n)) layers[m] = Number(n);
      else delete layers[m];
    }
  }
  if (values.runs) {
    for (const e of Object.values(plan.runs))
      for (const m of Object.keys(e)) e[m] = Number(values.runs);
  }
  // A site folder of its own, so a `npm run bench` elsewhere on the machine cannot empty it.
  const site = 'dist-bench-node/models-site';
  await build({ configFile: 'bench/vite.config.ts', build: { outDir: resolve(site) } });
  const server = await preview({
    configFile: 'bench/vite.config.ts',
    build: { outDir: resolve(site) },
    preview: { port: 0, host: '127.0.0.1' },
  });
  try {
    await modelsBench({
      base: server.resolvedUrls.local[0],
      newBrowser: () => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
      plan,
      models: values.models?.split(','),
      sides: values.sides?.split(','),
      site,
    });
  } finally {
    await server.close();
  }
}
