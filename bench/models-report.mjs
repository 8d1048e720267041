// The models bench's summary and table (scripts/models-bench.mjs runs the sides): per row each
// side's median with min–max, tessel over transformers.js, the outputs' agreement, the
// reductions from the issue's rows, and memory. Split from the runner to keep each file short.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
export const PAIRS = {
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

function rowKey(t) {
  return t.kind === 'embed'
    ? `embed b${t.batch}×${t.seq}`
    : t.kind === 'prefill'
      ? `prefill ${t.seq}`
      : `decode b${t.batch}`;
}

/** The result JSON from every side's raw result; `dir`: where the checkpoint folders are. */
export function summarize(dir, prepared, plan, raw, threads) {
  const rows = [];
  const ratios = { embed_over_tjs: {}, prefill_over_tjs: {}, decode_over_tjs: {} };
  const memory = {};
  const reductions = [];
  const names = [...new Set(Object.values(prepared).flatMap((l) => l.map((p) => p.name)))];
  for (const name of names) {
    for (const engine of Object.keys(PAIRS)) {
      const p = prepared[engine].find((x) => x.name === name);
      const cfg = JSON.parse(readFileSync(join(dir, p.folder, 'config.json'), 'utf8'));
      const k = Math.max(cfg.intermediate_size, cfg.hidden_size);
      const tasks = plan[engine][p.name];
      for (const [i, task] of tasks.entries()) {
        const issue = ISSUE_ROWS[p.name][i];
        const diffs = Object.entries(task).filter(
          ([f, v]) => issue[f] !== undefined && issue[f] !== v,
        );
        if (task.kind === 'decode') {
          // The issue names no prompt or decode length: state them on every decode row.
          diffs.push(['prompt', task.prompt], ['steps timed', task.steps]);
        }
        if (diffs.length || p.layers !== BENCH_LAYERS[p.name]) {
          reductions.push(
            `${p.name} ${engine} ${rowKey(task)}: ${diffs.map(([f, v]) => (issue[f] === undefined ? `${f} ${v}` : `${f} ${v} (issue: ${issue[f]})`)).join(', ')}${p.layers !== BENCH_LAYERS[p.name] ? ` layers ${p.layers} of ${BENCH_LAYERS[p.name]}` : ''}`,
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

/** Prints the result's table. */
export function print(r) {
  const f = (x, d = 1) =>
    x === null || x === undefined
      ? '—'
      : Math.abs(x) < 1 && d === 1
        ? x.toPrecision(2)
        : x.toFixed(d);
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
