// Batched forward passes of the shipped model (public/models/kjv-char), each engine against its
// counterpart on the same page: tessel's WebGPU kernels against ONNX Runtime Web's WebGPU backend
// (and TF.js's, same weights and ops: src/model/gpt-tf.ts), tessel's CPU engine against ONNX
// Runtime Web's wasm backend with the same threads. ORT runs the graph src/model/gpt-onnx.ts
// builds from the same safetensors file. Each timed run takes the tokens in and the
// last-position logits out; logits are compared with tessel's WebGPU ones.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { CpuKernels } from '../src/cpu/kernels';
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import type { AdapterSummary } from '../src/gpu/device';
import { CpuGpt } from '../src/model/gpt-cpu';
import { GpuGpt } from '../src/model/gpt-gpu';
import { gptToOnnx, ONNX_INPUT } from '../src/model/gpt-onnx';
import { tfGptLastLogits, tfParamsFrom } from '../src/model/gpt-tf';
import { loadGpt } from '../src/model/load';
import { readSafetensors } from '../src/model/safetensors';
import { ORT_VERSION, type OrtSession, ortSession } from './ort';
import { time } from './timing';

export interface InferenceRow {
  batch: number;
  seq: number;
  tessel_ms: number; // tessel, WebGPU
  tessel_tok_s: number;
  ort_webgpu_ms: number;
  ort_webgpu_tok_s: number;
  tessel_over_ort_webgpu: number;
  cpu_ms: number; // tessel's CPU engine
  cpu_tok_s: number;
  ort_wasm_ms: number;
  ort_wasm_tok_s: number;
  cpu_over_ort_wasm: number;
  tfjs_ms: number; // TF.js WebGPU
  tfjs_tok_s: number;
  /** max |logit − tessel WebGPU's| per engine */
  max_abs_diff: { cpu: number; ort_webgpu: number; ort_wasm: number; tfjs: number };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

async function runInferenceBench(batches: number[], runs: number) {
  const [file, config] = await Promise.all([
    fetch('/models/kjv-char/model.safetensors').then((r) => r.arrayBuffer()),
    fetch('/models/kjv-char/config.json').then((r) => r.json()),
  ]);
  const bytes = new Uint8Array(file);
  const model = await loadGpt(bytes, config);
  const c = model.config;
  await tf.setBackend('webgpu');
  await tf.ready();
  const params = tfParamsFrom(tf, c, readSafetensors(bytes).tensors);
  const ctx = await GpuContext.create();
  const { tile } = await autotune(ctx, { store: new MemoryTuneStore() });
  const gpt = await GpuGpt.load(ctx, c, model.weights, tile);
  const threads = crossOriginIsolated ? navigator.hardwareConcurrency : 1;
  const cpu = await CpuKernels.create({ threads });
  const cpuGpt = await CpuGpt.load(cpu, c, model.weights);
  const onnx = gptToOnnx(c, model.weights);
  const ortGpu = await ortSession(onnx, 'webgpu', threads);
  const ortWasm = await ortSession(onnx, 'wasm', threads);
  const seq = c.maxSeq;
  const rows: InferenceRow[] = [];
  for (const batch of batches) {
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 31 + 7) % c.vocab);
    const toks = batch * seq;
    const rate = (ms: number) => (toks / ms) * 1000;
    let ours: Float32Array = new Float32Array(0);
    const tesselMs = await time(runs, async () => {
      ours = await gpt.forward(tokens, batch, seq);
    });
    let onCpu: Float32Array = new Float32Array(0);
    const cpuMs = await time(runs, async () => {
      onCpu = await cpuGpt.forward(tokens, batch, seq);
    });
    const ort = async (s: OrtSession) => {
      let out: Float32Array = new Float32Array(0);
      const ms = await time(runs, async () => {
        const feed = BigInt64Array.from(tokens, BigInt);
        out = await s.run({ [ONNX_INPUT]: { type: 'int64', data: feed, dims: [batch, seq] } });
      });
      return { ms, out };
    };
    const og = await ort(ortGpu);
    const ow = await ort(ortWasm);
    let theirs: Float32Array = new Float32Array(0);
    const tfjsMs = await time(runs, async () => {
      const t = tf.tensor2d(Int32Array.from(tokens), [batch, seq], 'int32');
      const logits = tfGptLastLogits(tf, params, c, t);
      theirs = (await logits.data()) as Float32Array;
      tf.dispose([t, logits]);
    });
    rows.push({
      batch,
      seq,
      tessel_ms: tesselMs,
      tessel_tok_s: rate(tesselMs),
      ort_webgpu_ms: og.ms,
      ort_webgpu_tok_s: rate(og.ms),
      tessel_over_ort_webgpu: og.ms / tesselMs,
      cpu_ms: cpuMs,
      cpu_tok_s: rate(cpuMs),
      ort_wasm_ms: ow.ms,
      ort_wasm_tok_s: rate(ow.ms),
      cpu_over_ort_wasm: ow.ms / cpuMs,
      tfjs_ms: tfjsMs,
      tfjs_tok_s: rate(tfjsMs),
      max_abs_diff: {
        cpu: maxDiff(onCpu, ours),
        ort_webgpu: maxDiff(og.out, ours),
        ort_wasm: maxDiff(ow.out, ours),
        tfjs: maxDiff(theirs, ours),
      },
    });
  }
  const adapter: AdapterSummary = ctx.summary;
  const cpuSummary = cpu.summary;
  gpt.destroy();
  ctx.destroy();
  cpu.dispose();
  await Promise.all([ortGpu.release(), ortWasm.release()]);
  return {
    adapter,
    tile,
    cpu: cpuSummary,
    ort: ORT_VERSION,
    model: { digest: model.digest, config: c },
    runs,
    rows,
  };
}

Object.assign(globalThis, { runInferenceBench });
