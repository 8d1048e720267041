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

/** Where the checkpoint folders are written (reused while complete; MODELS_BENCH_DIR overrides). */
const MODELS_DIR =
  process.env.MODELS_BENCH_DIR ?? resolve('node_modules/.cache/tessel-models-bench');

/** One side's limit (seconds, load included): past it the side is recorded as failed, so a
 * stalled browser cannot hold the bench (MODELS_BENCH_SIDE_TIMEOUT_S overrides). */
const SIDE_TIMEOUT_S = Number(process.env.MODELS_BENCH_SIDE_TIMEOUT_S ?? 300);

/** The full bench: the issue's rows; WebGPU reduced to fit SwiftShader (see `reductions`). */
export const FULL_PLAN = {
  runs: {
    cpu: { minilm: 2, smollm2: 2, qwen25: 2 },
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

/** The issue's row for each task kind, to state reductions against. */
const ISSUE_ROWS = {
  minilm: [{ kind: 'embed', batch: 32, seq: 128 }],
  smollm2: [
    { kind: 'prefill', seq: 512 },
    { kind: 'decode', batch: 1 },
    { kind: 'decode', batch: 8 },
  ],
  qwen25: [{ kind: 'decode', batch: 1 }],
};

/** Each tessel engine and the transformers.js sides it is compared with. */
const PAIRS = {
  webgpu: { tessel: 'tessel-webgpu', tjs: ['tjs-webgpu'] },
  cpu: { tessel: 'tessel-cpu', tjs: ['tjs-wasm', 'tjs-wasm-q8'] },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** float32 dot products of length k: γ_k = k·u / (1 − k·u), u = 2⁻²⁴. */
const gamma = (k) => (k * 2 ** -24) / (1 - k * 2 ** -24);

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

function rowKey(t) {
  return t.kind === 'embed'
    ? `embed b${t.batch}×${t.seq}`
    : t.kind === 'prefill'
      ? `prefill ${t.seq}`
      : `decode b${t.batch}`;
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
  const result = summarize(prepared, plan, raw, threads);
  result.wall_s = (performance.now() - started) / 1000;
  print(result);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/models.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote bench/results/models.json (${result.wall_s.toFixed(0)} s)`);
  return result;
}

function summarize(prepared, plan, raw, threads) {
  const rows = [];
  const ratios = { embed_over_tjs: {}, prefill_over_tjs: {}, decode_over_tjs: {} };
  const memory = {};
  const reductions = [];
  const names = [...new Set(Object.values(prepared).flatMap((l) => l.map((p) => p.name)))];
  for (const name of names) {
    for (const engine of Object.keys(PAIRS)) {
      const p = prepared[engine].find((x) => x.name === name);
      const cfg = JSON.parse(readFileSync(join(MODELS_DIR, p.folder, 'config.json'), 'utf8'));
      const k = Math.max(cfg.intermediate_size, cfg.hidden_size);
      const tasks = plan[engine][p.name];
      for (const [i, task] of tasks.entries()) {
        const issue = ISSUE_ROWS[p.name][i];
        const diffs = Object.entries(task).filter(
          ([f, v]) => issue[f] !== undefined && issue[f] !== v,
        );
        if (diffs.length || p.layers !== BENCH_LAYERS[p.name]) {
          reductions.push(
            `${p.name} ${engine} ${rowKey(task)}: ${diffs.map(([f, v]) => `${f} ${v} (issue: ${issue[f]})`).join(', ')}${p.layers !== BENCH_LAYERS[p.name] ? ` layers ${p.layers} of ${BENCH_LAYERS[p.name]}` : ''}`,
          );
        }
        if (i === 0) {
          reductions.push(
            `${p.name} ${engine}: ${plan.runs[engine][p.name]} run(s) per side${plan.runs[engine][p.name] < 2 ? ' (no A B A B alternation)' : ''}, ${plan.iterations[engine]} timed iteration(s) each`,
          );
        }
        const bySide = {};
        for (const side of [PAIRS[engine].tessel, ...PAIRS[engine].tjs]) {
          const got = raw.filter((r) => r.model === p.name && r.side === side);
          const ok = got.filter((r) => !r.error);
          if (ok.length === 0) {
            bySide[side] = { error: got[0]?.error ?? 'not run' };
            continue;
          }
          const perRun = ok.map((r) => r.tasks[i]);
          const rates = perRun.map((t) => (t.units / median(t.ms)) * 1000);
          const all = perRun.flatMap((t) => t.ms.map((ms) => (t.units / ms) * 1000));
          bySide[side] = {
            median: median(rates),
            min: Math.min(...all),
            max: Math.max(...all),
            runs: ok.length,
            iterations: perRun.reduce((n, t) => n + t.ms.length, 0),
            load_s: median(ok.map((r) => r.load_ms / 1000)),
            output: perRun[0].output,
            detail: ok[0].detail,
          };
        }
        // Agreement with transformers.js fp32 on the matching backend.
        const ours = bySide[PAIRS[engine].tessel];
        const fp32 = bySide[PAIRS[engine].tjs[0]];
        let agreement;
        if (ours?.output && fp32?.output) {
          let worst = 0;
          let scale = 0;
          for (let j = 0; j < fp32.output.length; j++) {
            worst = Math.max(worst, Math.abs(ours.output[j] - fp32.output[j]));
            scale = Math.max(scale, Math.abs(fp32.output[j]));
          }
          if (ours.output.length !== fp32.output.length) worst = Number.POSITIVE_INFINITY;
          // float32 rounding, a relative γ_K of the output's scale per layer (as the exporter's
          // and engines' tests bound it).
          const bound = p.layers * gamma(k) * Math.max(scale, 1);
          agreement = { max_abs_diff: worst, output_scale: scale, bound, within: worst <= bound };
          const q8 = bySide[PAIRS[engine].tjs[1]];
          if (q8?.output) {
            let d = 0;
            for (let j = 0; j < fp32.output.length; j++) {
              d = Math.max(d, Math.abs(q8.output[j] - fp32.output[j]));
            }
            agreement.q8_max_abs_diff = d;
          }
        }
        const unit = task.kind === 'embed' ? 'embeddings/s' : 'tokens/s';
        const row = {
          model: p.name,
          shape_of: p.shapeOf,
          engine,
          task,
          unit,
          agreement,
          sides: {},
        };
        for (const [side, s] of Object.entries(bySide)) {
          const { output, ...rest } = s;
          row.sides[side] = rest;
        }
        const over = (tjs) =>
          ours?.median && bySide[tjs]?.median ? ours.median / bySide[tjs].median : null;
        row.tessel_over_tjs = over(PAIRS[engine].tjs[0]);
        if (PAIRS[engine].tjs[1]) row.tessel_over_tjs_q8 = over(PAIRS[engine].tjs[1]);
        rows.push(row);
        const field = `${task.kind}_over_tjs`;
        const key = task.kind === 'decode' ? `${p.name} b${task.batch}` : p.name;
        ratios[field][engine] ??= {};
        ratios[field][engine][key] = row.tessel_over_tjs;
        if (row.tessel_over_tjs_q8 !== undefined) {
          ratios[field].cpu_vs_q8 ??= {};
          ratios[field].cpu_vs_q8[key] = row.tessel_over_tjs_q8;
        }
      }
      // Peak memory: what tessel's runner holds (weights + the largest task's KV cache) over
      // the weights' file bytes.
      const ok = raw.filter(
        (r) => r.model === p.name && r.side === PAIRS[engine].tessel && !r.error,
      );
      if (ok.length) {
        const rb = ok[0].resident_bytes;
        memory[engine] ??= {};
        memory[engine][p.name] = {
          weights_over_file: rb.weights / p.weightFileBytes,
          with_kv_cache_over_file: (rb.weights + rb.kv_cache) / p.weightFileBytes,
          resident_weight_bytes: rb.weights,
          kv_cache_bytes: rb.kv_cache,
          weight_file_bytes: p.weightFileBytes,
          browser_pss_bytes: ok[0].browser_pss_bytes ?? null,
        };
      }
    }
    // Every side, transformers.js's included (its runtime reports no resident bytes): the
    // browser's peak PSS over the weights' file, and with the idle page's PSS taken off.
    for (const [engine, pair] of Object.entries(PAIRS)) {
      const p = prepared[engine].find((x) => x.name === name);
      for (const side of [pair.tessel, ...pair.tjs]) {
        const r = raw.find((x) => x.model === p.name && x.side === side && !x.error);
        const b = r?.browser_pss_bytes;
        memory.browser_peak_pss_over_weights ??= {};
        memory.browser_peak_pss_over_weights[`${p.name} ${side}`] = b?.peak
          ? {
              peak: b.peak / p.weightFileBytes,
              above_idle_page: (b.peak - b.idle_page) / p.weightFileBytes,
            }
          : null;
      }
    }
  }
  return {
    date: new Date().toISOString(),
    peer: 'transformers.js v4 (@huggingface/transformers), local files only, ONNX exported by src/model/hf/onnx-export.ts from the same checkpoint (decoders in Optimum’s KV-cache layout with num_logits_to_keep, so its prefill computes the last slot’s logits only, as tessel’s does); fp32, and its default q8 on wasm (int8 linear layers and head, float embeddings); decode through its own forward + _update_model_kwargs_for_generation with fixed tokens',
    tessel_memory:
      'tessel: resident bytes its runner holds (CpuHfModel.residentBytes; GpuHfModel.weightBytes + the f32 KV cache’s size) over model.safetensors’ bytes; every side: the browser’s peak PSS (Linux /proc, all its processes) over the same',
    fairness:
      'each side in a page of its own, a fresh browser per side and run, sides alternating (order reversed every other run); medians over runs of each run’s median, min–max over every timed iteration; one untimed warm-up per task',
    threads,
    plan,
    reductions,
    models: prepared,
    ...ratios,
    peak_memory_over_weights: memory,
    rows,
  };
}

/** Real layer counts, to state a smoke run's reduction. */
const BENCH_LAYERS = { minilm: 6, smollm2: 30, qwen25: 24 };

function print(r) {
  const f = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d));
  console.log(
    `\nmodels: tessel vs transformers.js v4, same checkpoints (random weights at real shapes), ${r.threads} CPU thread(s); median (min–max)`,
  );
  for (const row of r.rows) {
    const sides = Object.entries(row.sides)
      .map(([s, v]) =>
        v.error === 'not run'
          ? `${s} not run`
          : v.error
            ? `${s} FAILED`
            : `${s} ${f(v.median)} (${f(v.min)}–${f(v.max)})`,
      )
      .join(' │ ');
    const a = row.agreement;
    const agree = a
      ? `Δmax ${a.max_abs_diff.toExponential(1)} ${a.within ? '≤' : '>'} bound ${a.bound.toExponential(1)}`
      : 'not compared';
    console.log(
      `  ${row.model.padEnd(7)} ${row.engine.padEnd(6)} ${rowKey(row.task).padEnd(16)} ${row.unit}: ${sides} ║ ×${f(row.tessel_over_tjs, 2)}${row.tessel_over_tjs_q8 !== undefined ? ` (q8 ×${f(row.tessel_over_tjs_q8, 2)})` : ''} ║ ${agree}`,
    );
  }
  if (r.reductions.length) {
    console.log('  reductions from the issue’s rows:');
    for (const x of r.reductions) console.log(`    ${x}`);
  }
  for (const [engine, m] of Object.entries(r.peak_memory_over_weights)) {
    if (engine === 'browser_peak_pss_over_weights') {
      for (const [k, v] of Object.entries(m)) {
        if (v)
          console.log(
            `  browser peak PSS ${k}: ${f(v.peak, 2)}× the weights' file (${f(v.above_idle_page, 2)}× above the idle page)`,
          );
      }
      continue;
    }
    for (const [model, v] of Object.entries(m)) {
      console.log(
        `  memory ${engine} ${model}: resident weights ${f(v.weights_over_file, 2)}× the file, with KV cache ${f(v.with_kv_cache_over_file, 2)}×`,
      );
    }
  }
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
