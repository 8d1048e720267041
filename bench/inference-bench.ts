// One side of the inference comparison, in a page of its own (scripts/bench.mjs opens a fresh
// browser per side per run, A B A B). The shipped model, a Hugging Face GPT-2 checkpoint
// (public/models/kjv-char), loaded as any checkpoint (filesFromUrl + loadCheckpoint); a timed run
// is one forward pass of `batch` sequences of the model's full context, tokens in, each
// sequence's last-position logits out:
//   webgpu       tessel's WebGPU engine (GpuHfModel: a prefill into a cache of its own)
//   cpu          tessel's CPU engine (CpuHfModel), `threads` threads
//   ort-webgpu   ONNX Runtime Web's WebGPU backend, on exportOnnx's graph of the same checkpoint
//   ort-wasm     its wasm backend, the same threads (the graph has no cache and gives logits at
//                every position; the head is 62 × 128, a sliver of the pass)
//   tfjs-webgpu  TF.js's WebGPU backend, the same weights and ops (src/model/gpt-tf.ts)
// tessel's sides also time decoding: a batch of 16-token prompts, then DECODE_STEPS steps of one
// token each through the KV cache (ORT's export and TF.js have no cache: no peer for this).
import { CpuKernels } from '../src/cpu/kernels';
import { median } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import { type Checkpoint, loadCheckpoint } from '../src/model/hf/checkpoint';
import { filesFromUrl } from '../src/model/hf/files';
import { exportOnnx, ONNX_ATTENTION_MASK, ONNX_INPUT_IDS } from '../src/model/hf/onnx-export';
import { CpuHfModel } from '../src/model/hf/run-cpu';
import { GpuHfModel } from '../src/model/hf/run-gpu';
import type { Gpt2Config } from '../src/model/hf/types';
import { ortSession } from './ort';
import { time } from './timing';

export const INFERENCE_SIDES = ['webgpu', 'cpu', 'ort-webgpu', 'ort-wasm', 'tfjs-webgpu'] as const;
export type InferenceSide = (typeof INFERENCE_SIDES)[number];

/** Tokens each sequence generates in the decode timing. */
export const DECODE_STEPS = 32;
const DECODE_PROMPT = 16; // tokens
/** Timed generations at most (each DECODE_STEPS steps; a software WebGPU adapter is slow). */
const DECODE_REPS = 3;

export interface InferenceSideRow {
  batch: number;
  seq: number;
  /** Median ms of a forward pass (`reps` after a warm-up), and tokens through it per second. */
  ms: number;
  tok_s: number;
  /** The first sequence's last-position logits, for the sides' agreement (scripts/bench.mjs). */
  logits: number[];
  /** tessel's sides: generated tokens per second over DECODE_STEPS cached steps. */
  decode_tok_s?: number;
}

/** A side's forward pass: last-position logits of each sequence. */
interface Runner {
  info: Record<string, unknown>;
  forward(batch: number[][]): Promise<Float32Array[]>;
  /** tessel's engines: start a cached batch, then steps. */
  decoder?: {
    start(batch: number[][], steps: number): Promise<Float32Array[]>;
    step(next: number[]): Promise<Float32Array[]>;
  };
  done(): Promise<void>;
}

async function runner(side: InferenceSide, ckpt: Checkpoint, threads: number): Promise<Runner> {
  switch (side) {
    case 'webgpu': {
      const ctx = await GpuContext.create();
      const model = await GpuHfModel.load(ctx, ckpt);
      return {
        info: { adapter: ctx.summary },
        forward: (batch) => model.start(batch, 0),
        decoder: model,
        done: async () => {
          model.dispose();
          ctx.destroy();
        },
      };
    }
    case 'cpu': {
      const cpu = await CpuKernels.create({ threads });
      const model = await CpuHfModel.load(cpu, ckpt);
      const info: Record<string, unknown> = { cpu: cpu.summary };
      return {
        info,
        forward: (batch) => model.start(batch, 0),
        decoder: model,
        done: async () => {
          info.pool = cpu.poolStats; // how often helpers were woken, or sat out
          await model.dispose();
          cpu.dispose();
        },
      };
    }
    case 'ort-webgpu':
    case 'ort-wasm': {
      const onnx = exportOnnx(ckpt);
      const s = await ortSession(onnx.bytes, side === 'ort-wasm' ? 'wasm' : 'webgpu', threads);
      const vocab = (ckpt.config as Gpt2Config).vocabSize;
      return {
        info: { ort: s.version, threads },
        async forward(batch) {
          const B = batch.length;
          const S = batch[0]!.length;
          const ids = BigInt64Array.from(batch.flat(), BigInt);
          const mask = new BigInt64Array(B * S).fill(1n);
          const out = await s.run({
            [ONNX_INPUT_IDS]: { type: 'int64', data: ids, dims: [B, S] },
            [ONNX_ATTENTION_MASK]: { type: 'int64', data: mask, dims: [B, S] },
          });
          return batch.map((_, b) => out.slice(((b + 1) * S - 1) * vocab, (b + 1) * S * vocab));
        },
        done: () => s.release(),
      };
    }
    case 'tfjs-webgpu': {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-webgpu');
      const { tfGpt2LastLogits, tfGpt2Params } = await import('../src/model/gpt-tf');
      await tf.setBackend('webgpu');
      await tf.ready();
      const c = ckpt.config as Gpt2Config;
      const params = tfGpt2Params(tf, c, ckpt.weights);
      return {
        info: { tfjs: tf.version.tfjs, backend: tf.getBackend() },
        async forward(batch) {
          const t = tf.tensor2d(Int32Array.from(batch.flat()), [batch.length, batch[0]!.length]);
          const logits = tfGpt2LastLogits(tf, params, c, t as never);
          const all = (await logits.data()) as Float32Array;
          tf.dispose([t, logits]);
          return batch.map((_, b) => all.slice(b * c.vocabSize, (b + 1) * c.vocabSize));
        },
        done: async () => tf.dispose(Object.values(params)),
      };
    }
  }
}

async function runInferenceSide(
  side: InferenceSide,
  batches: number[],
  reps: number,
  threads = crossOriginIsolated ? navigator.hardwareConcurrency : 1,
  model = '/models/kjv-char/',
) {
  if (!INFERENCE_SIDES.includes(side)) throw new Error(`no inference side ${side}`);
  const ckpt = await loadCheckpoint(await filesFromUrl(new URL(model, location.href).href));
  if (ckpt.config.family !== 'gpt2') throw new Error(`${model} is not a GPT-2 checkpoint`);
  const c = ckpt.config;
  const r = await runner(side, ckpt, threads);
  const seq = c.nPositions;
  const ids = (rows: number, len: number) =>
    Array.from({ length: rows }, (_, b) =>
      Array.from({ length: len }, (_, i) => ((b * len + i) * 31 + 7) % c.vocabSize),
    );
  const rows: InferenceSideRow[] = [];
  for (const batch of batches) {
    const tokens = ids(batch, seq);
    let out: Float32Array[] = [];
    const ms = await time(reps, async () => {
      out = await r.forward(tokens);
    });
    const row: InferenceSideRow = {
      batch,
      seq,
      ms,
      tok_s: ((batch * seq) / ms) * 1000,
      logits: Array.from(out[0] ?? []),
    };
    if (r.decoder) {
      const d = r.decoder;
      const prompts = ids(batch, DECODE_PROMPT);
      // The steps alone are timed: the prompt's prefill is the forward pass above.
      const decode = async () => {
        let next = (await d.start(prompts, DECODE_STEPS)).map(argmax);
        const t0 = performance.now();
        for (let s = 0; s < DECODE_STEPS; s++) next = (await d.step(next)).map(argmax);
        return performance.now() - t0;
      };
      await decode();
      const stepMs: number[] = [];
      for (let i = 0; i < Math.min(reps, DECODE_REPS); i++) stepMs.push(await decode());
      row.decode_tok_s = ((batch * DECODE_STEPS) / median(stepMs)) * 1000;
    }
    rows.push(row);
  }
  await r.done();
  return {
    side,
    info: r.info,
    crossOriginIsolated,
    reps,
    model: { digest: ckpt.digest, config: c },
    rows,
  };
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

Object.assign(globalThis, { runInferenceSide });
