// The peer comparisons of `npm run bench` (scripts/bench.mjs --only matmul | inference), measured
// fairly (fair-bench.mjs): each side of bench/matmul-bench.ts or bench/inference-bench.ts in a
// browser of its own, fresh per run, A B A B, medians with min–max; `load` > 0 measures every
// side again beside that many busy processes and reports loaded ÷ idle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  alternate,
  busiestRest,
  FAIR_METHOD,
  idleAndLoaded,
  pairRatios,
  spread,
} from './fair-bench.mjs';

/** What every result starts with: the browser, the peer, the date. */
function meta(browser, peer) {
  return { browser, peer, date: new Date().toISOString() };
}

/**
 * @typedef {{ base: string, newBrowser: () => Promise<import('playwright-core').Browser>,
 *   sizes: number[], runs: number, reps: number, load: number, sides?: string }} PeerBenchArgs
 * base: the bench preview server's URL; runs: fresh-browser runs per side; reps: timed calls per
 * run after a warm-up; load: busy processes for the loaded pass (0: none); sides: 'a,b' to pick.
 */

/** The sides of the fair comparisons (bench/matmul-bench.ts, bench/inference-bench.ts). */
const MATMUL_SIDES = ['webgpu', 'tfjs-webgpu', 'ort-webgpu', 'cpu', 'ort-wasm'];
const INFERENCE_SIDES = ['webgpu', 'cpu', 'ort-webgpu', 'ort-wasm', 'tfjs-webgpu'];

/** Independent accumulator chains of the peak probes (cpuPeakProbe). */
const PEAK_CHAINS = [8, 10, 12, 14];
const PEAK_METHOD =
  'one thread running 8, 10, 12 or 14 independent f32x4 a·b + c chains in registers (relaxed_madd where the engine runs relaxed SIMD, else mul then add: 8 flops per chain per iteration), the fastest count, median of 5 runs of ~0.2 s, in the CPU engine’s page after its products; × the engine’s threads (the cores are independent: two processes each reach the one-thread rate)';

/** `--sides a,b` picks some of a bench's sides (all by default). */
function pickSides(all, only) {
  const want = only?.split(',') ?? all;
  const bad = want.filter((s) => !all.includes(s));
  if (bad.length) throw new Error(`no side ${bad.join(', ')}: the sides are ${all.join(', ')}`);
  return all.filter((s) => want.includes(s));
}

/**
 * The CPU engine's 128-bit SIMD peak, probed in its own page: 16 independent f32x4 chains of
 * a·b + c (relaxed_madd where the engine runs relaxed SIMD, else mul then add), so neither
 * latency nor memory limits it: the FMA units' throughput on one thread. AssemblyScript
 * source, compiled here; base64 of each build for the page.
 */
function cpuPeakProbe() {
  // 8 chains hide FMA's 4-cycle latency on two pipes; more than 14 (with b and c) spill x64's
  // 16 vector registers. Each count is a probe; the page keeps the fastest.
  const probe = (chains) => `
export function probe${chains}(iterations: i32): f32 {
  const b = f32x4.splat(0.9999);
  const c = f32x4.splat(0.0001);
  ${Array.from({ length: chains }, (_, i) => `let a${i} = f32x4.splat(${1 + i / 100});`).join(' ')}
  for (let i = 0; i < iterations; i++) {
    ${Array.from({ length: chains }, (_, i) => `a${i} = madd(a${i}, b, c);`).join(' ')}
  }
  let s = a0;
  ${Array.from({ length: chains - 1 }, (_, i) => `s = f32x4.add(s, a${i + 1});`).join(' ')}
  return f32x4.extract_lane(s, 0);
}`;
  const src = `
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
${PEAK_CHAINS.map(probe).join('\n')}
`;
  const dir = mkdtempSync(join(tmpdir(), 'tessel-peak-'));
  writeFileSync(join(dir, 'peak.ts'), src);
  const out = {};
  for (const [name, flags] of [
    ['relaxed', ['--enable', 'relaxed-simd']],
    ['simd', []],
  ]) {
    const file = join(dir, `${name}.wasm`);
    execFileSync(
      process.execPath,
      [
        'node_modules/assemblyscript/bin/asc.js',
        join(dir, 'peak.ts'),
        '-O3',
        '--runtime',
        'stub',
        '--enable',
        'simd',
        ...flags,
        '--outFile',
        file,
      ],
      { stdio: 'inherit' },
    );
    out[name] = readFileSync(file).toString('base64');
  }
  return out;
}

/** The matmul comparison; writes bench/results/matmul.json. @param {PeerBenchArgs} args */
export async function matmulBench({ base, newBrowser, sizes, runs, reps, load, sides: only }) {
  let version;
  const sides = pickSides(MATMUL_SIDES, only);
  const peak = sides.includes('cpu') ? cpuPeakProbe() : null;
  const pass = (label) =>
    alternate({
      sides,
      runs,
      newBrowser,
      label,
      measure: async (side, page) => {
        version ??= page.context().browser()?.version();
        await page.goto(`${base}?side=${side}`);
        await page.waitForFunction(() => 'runMatmulSide' in globalThis);
        return page.evaluate(
          ([side, sizes, reps, peak]) =>
            globalThis.runMatmulSide(side, sizes, reps, undefined, peak ?? undefined),
          [side, sizes, reps, side === 'cpu' ? peak : null],
        );
      },
    });
  console.log(`\nmatmul: ${sides.join(', ')}; ${runs} runs each, A B A B, fresh browser per run`);
  const { idle, loaded } = await idleAndLoaded(load, pass);
  const ok = (xs) => xs.filter((x) => !x.error);
  const at = (bySide, side, n, field) =>
    (bySide[side] ?? []).map((r) => (r.error ? null : r.rows.find((x) => x.n === n)?.[field]));
  const gf = (bySide, side, n) => at(bySide, side, n, 'gflops');
  const peakRuns = (idle.cpu ?? []).map((r) => (r.error ? null : r.peak?.gflops));
  const rows = sizes.map((n) => {
    const cpu = gf(idle, 'cpu', n);
    const errs = Object.fromEntries(
      sides.map((s) => [
        s,
        Math.max(
          ...ok(idle[s]).map((r) => r.rows.find((x) => x.n === n)?.max_abs_err ?? Number.NaN),
        ),
      ]),
    );
    return {
      n,
      tessel_gflops: spread(gf(idle, 'webgpu', n)),
      tfjs_gflops: spread(gf(idle, 'tfjs-webgpu', n)),
      ort_webgpu_gflops: spread(gf(idle, 'ort-webgpu', n)),
      cpu_gflops: spread(cpu),
      ort_wasm_gflops: spread(gf(idle, 'ort-wasm', n)),
      tessel_over_tfjs: pairRatios(gf(idle, 'webgpu', n), gf(idle, 'tfjs-webgpu', n)),
      tessel_over_ort_webgpu: pairRatios(gf(idle, 'webgpu', n), gf(idle, 'ort-webgpu', n)),
      cpu_over_ort_wasm: pairRatios(cpu, gf(idle, 'ort-wasm', n)),
      cpu_over_peak: pairRatios(cpu, peakRuns),
      verify_over_compute: spread(at(idle, 'webgpu', n, 'verify_over_compute')),
      max_abs_err: errs,
    };
  });
  const first = (side) => ok(idle[side] ?? [])[0];
  const result = {
    ...meta(
      version,
      'TF.js 4.22 WebGPU backend (tf.matMul + data()); ONNX Runtime Web wasm and WebGPU backends (a MatMul graph, session.run + getData())',
    ),
    method: FAIR_METHOD,
    busiest_rest: busiestRest(idle),
    runs,
    reps,
    sides: Object.fromEntries(sides.map((s) => [s, first(s)?.info ?? null])),
    cpu_peak_gflops: spread(peakRuns),
    cpu_peak_method: PEAK_METHOD,
    rows,
    ...(loaded ? { loaded: loadedRows(idle, loaded, sides, sizes, 'n', ['gflops'], load) } : {}),
    raw: { idle, ...(loaded ? { loaded } : {}) },
  };
  const m = (s, d = 1) =>
    s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : '—';
  const threads = first('cpu')?.info.cpu?.threads ?? '?';
  console.log(
    `\nmatmul, GFLOP/s median (min–max) of ${runs} fresh-browser runs; CPU engine and ORT wasm on ${threads} thread(s); CPU peak ${m(result.cpu_peak_gflops)} GFLOP/s${restNote(result.busiest_rest)}`,
  );
  for (const r of rows) {
    console.log(
      `  n=${r.n}: WebGPU tessel ${m(r.tessel_gflops)} │ TF.js ${m(r.tfjs_gflops)} │ ORT ${m(r.ort_webgpu_gflops)} │ tessel/ORT ${m(r.tessel_over_ort_webgpu, 2)} ║ CPU tessel ${m(r.cpu_gflops)} │ ORT wasm ${m(r.ort_wasm_gflops)} │ tessel/ORT ${m(r.cpu_over_ort_wasm, 2)} │ of peak ${m(r.cpu_over_peak, 2)}`,
    );
  }
  printLoaded(result.loaded, 'gflops');
  writeFileSync('bench/results/matmul.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/matmul.json');
}

/**
 * Each side's idle and loaded medians, and loaded ÷ idle (the target: no engine below ½),
 * for every key (n, batch) and metric.
 */
function loadedRows(idle, loaded, sides, keys, keyName, metrics, load) {
  const out = { busy_processes: load, rows: [] };
  for (const side of sides) {
    for (const key of keys) {
      for (const metric of metrics) {
        const of = (bySide) =>
          (bySide[side] ?? []).map((r) =>
            r.error ? null : r.rows.find((x) => x[keyName] === key)?.[metric],
          );
        const i = spread(of(idle));
        const l = spread(of(loaded));
        if (!i && !l) continue;
        out.rows.push({
          side,
          [keyName]: key,
          metric,
          idle: i,
          loaded: l,
          loaded_over_idle: i && l ? l.median / i.median : null,
        });
      }
    }
  }
  out.worst_loaded_over_idle = Math.min(
    ...out.rows.map((r) => r.loaded_over_idle ?? Number.POSITIVE_INFINITY),
  );
  return out;
}

/** Says how busy the machine was in the busiest rest before an idle run (see fair-bench.mjs). */
function restNote(busy) {
  if (busy === null || busy === undefined) return '';
  const warn = busy > 0.1 ? ' — NOT idle: something else was running' : '';
  return `; machine at most ${(100 * busy).toFixed(0)}% busy at rest before a run${warn}`;
}

function printLoaded(l) {
  if (!l) return;
  console.log(`  beside ${l.busy_processes} busy processes, loaded ÷ idle (medians):`);
  for (const r of l.rows) {
    const key = r.n !== undefined ? `n=${r.n}` : `batch ${r.batch}`;
    console.log(
      `    ${r.side.padEnd(12)} ${key.padEnd(9)} ${r.metric.padEnd(13)} ${r.idle?.median.toFixed(1) ?? '—'} → ${r.loaded?.median.toFixed(1) ?? '—'} = ${r.loaded_over_idle?.toFixed(2) ?? '—'}`,
    );
  }
}

/** The inference comparison; writes bench/results/inference.json. @param {Omit<PeerBenchArgs, 'sizes'>} args */
export async function inferenceBench({ base, newBrowser, runs, reps, load, sides: only }) {
  let version;
  const sides = pickSides(INFERENCE_SIDES, only);
  const batches = [1, 8, 32];
  const pass = (label) =>
    alternate({
      sides,
      runs,
      newBrowser,
      label,
      measure: async (side, page) => {
        version ??= page.context().browser()?.version();
        await page.goto(`${base}inference.html?side=${side}`);
        await page.waitForFunction(() => 'runInferenceSide' in globalThis);
        return page.evaluate(
          ([side, batches, reps]) => globalThis.runInferenceSide(side, batches, reps),
          [side, batches, reps],
        );
      },
    });
  console.log(
    `\ninference: ${sides.join(', ')}; ${runs} runs each, A B A B, fresh browser per run`,
  );
  const { idle, loaded } = await idleAndLoaded(load, pass);
  const ok = (xs) => (xs ?? []).filter((x) => !x.error);
  const at = (bySide, side, batch, field) =>
    (bySide[side] ?? []).map((r) =>
      r.error ? null : r.rows.find((x) => x.batch === batch)?.[field],
    );
  const tok = (side, batch) => at(idle, side, batch, 'tok_s');
  // Agreement: each side's first-sequence logits against ORT wasm's (an independent
  // implementation of the same export; else the first side that ran), worst over runs.
  const referenceSide = ['ort-wasm', ...sides].find((s) => ok(idle[s]).length > 0) ?? null;
  const reference = (batch) =>
    ok(idle[referenceSide])[0]?.rows.find((x) => x.batch === batch)?.logits;
  const diff = (side, batch) => {
    const ref = reference(batch);
    if (!ref) return null;
    let d = 0;
    for (const r of ok(idle[side])) {
      const l = r.rows.find((x) => x.batch === batch)?.logits ?? [];
      if (l.length !== ref.length) return Number.POSITIVE_INFINITY;
      for (let i = 0; i < l.length; i++) d = Math.max(d, Math.abs(l[i] - ref[i]));
    }
    return d;
  };
  const rows = batches.map((batch) => ({
    batch,
    seq: ok(idle[sides[0]])[0]?.rows[0]?.seq ?? null,
    tessel_tok_s: spread(tok('webgpu', batch)),
    ort_webgpu_tok_s: spread(tok('ort-webgpu', batch)),
    tfjs_tok_s: spread(tok('tfjs-webgpu', batch)),
    cpu_tok_s: spread(tok('cpu', batch)),
    ort_wasm_tok_s: spread(tok('ort-wasm', batch)),
    tessel_over_ort_webgpu: pairRatios(tok('webgpu', batch), tok('ort-webgpu', batch)),
    tessel_over_tfjs: pairRatios(tok('webgpu', batch), tok('tfjs-webgpu', batch)),
    cpu_over_ort_wasm: pairRatios(tok('cpu', batch), tok('ort-wasm', batch)),
    tessel_decode_tok_s: spread(at(idle, 'webgpu', batch, 'decode_tok_s')),
    cpu_decode_tok_s: spread(at(idle, 'cpu', batch, 'decode_tok_s')),
    max_abs_diff: Object.fromEntries(sides.map((s) => [s, diff(s, batch)])),
  }));
  const first = (side) => ok(idle[side])[0];
  const model = ok(idle[sides[0]])[0]?.model;
  const result = {
    ...meta(
      version,
      'ONNX Runtime Web WebGPU and wasm backends on the graph src/model/hf/onnx-export.ts exports from the same checkpoint (no cache, logits at every position); TF.js 4.22 WebGPU, same weights and ops (src/model/gpt-tf.ts)',
    ),
    method: FAIR_METHOD,
    busiest_rest: busiestRest(idle),
    runs,
    reps,
    model,
    // max_abs_diff: each side’s last-position logits against this side’s
    agreement_reference: referenceSide,
    sides: Object.fromEntries(sides.map((s) => [s, first(s)?.info ?? null])),
    rows,
    ...(loaded
      ? {
          loaded: loadedRows(
            idle,
            loaded,
            sides,
            batches,
            'batch',
            ['tok_s', 'decode_tok_s'],
            load,
          ),
        }
      : {}),
    raw: { idle, ...(loaded ? { loaded } : {}) },
  };
  for (const r of [...Object.values(result.raw.idle), ...Object.values(result.raw.loaded ?? {})])
    for (const run of r) for (const row of run.rows ?? []) delete row.logits;
  const m = (s, d = 0) =>
    s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : '—';
  const c = model?.config;
  console.log(
    `\ninference: ${c ? `kjv-char (GPT-2, ${c.nLayer} layers, d=${c.nEmbd}, ${c.nHead} heads, seq ${c.nPositions})` : 'kjv-char'}, tokens/s median (min–max) of ${runs} fresh-browser runs${restNote(result.busiest_rest)}`,
  );
  for (const r of rows) {
    console.log(
      `  batch ${r.batch}: WebGPU tessel ${m(r.tessel_tok_s)} │ ORT ${m(r.ort_webgpu_tok_s)} │ TF.js ${m(r.tfjs_tok_s)} │ tessel/ORT ${m(r.tessel_over_ort_webgpu, 2)} ║ CPU tessel ${m(r.cpu_tok_s)} │ ORT wasm ${m(r.ort_wasm_tok_s)} │ tessel/ORT ${m(r.cpu_over_ort_wasm, 2)} ║ decode tok/s WebGPU ${m(r.tessel_decode_tok_s)} CPU ${m(r.cpu_decode_tok_s)} ║ max |Δlogit| vs ${referenceSide} ${Object.entries(
        r.max_abs_diff,
      )
        .map(([s, d]) => `${s} ${d?.toExponential(1) ?? '—'}`)
        .join(', ')}`,
    );
  }
  printLoaded(result.loaded);
  writeFileSync('bench/results/inference.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/inference.json');
}
