// Batched forward passes of the shipped model (public/models/kjv-char): tessel's kernels against
// the same model in TF.js's WebGPU backend (same weights, same ops, src/model/gpt-tf.ts), on the
// same page and adapter. Each timed run uploads the tokens and reads the last-position logits back.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import type { AdapterSummary } from '../src/gpu/device';
import { GpuGpt } from '../src/model/gpt-gpu';
import { tfGptLastLogits, tfParamsFrom } from '../src/model/gpt-tf';
import { loadGpt } from '../src/model/load';
import { readSafetensors } from '../src/model/safetensors';
import { time } from './timing';

export interface InferenceRow {
  batch: number;
  seq: number;
  tessel_ms: number;
  tessel_tok_s: number;
  tessel_seq_s: number;
  peer: string;
  peer_ms: number;
  peer_tok_s: number;
  ratio: number; // tessel_tok_s / peer_tok_s
  max_abs_diff: number; // between the two sets of logits
}

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
  const seq = c.maxSeq;
  const rows: InferenceRow[] = [];
  for (const batch of batches) {
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 31 + 7) % c.vocab);
    let ours: Float32Array = new Float32Array(0);
    const tesselMs = await time(runs, async () => {
      ours = await gpt.forward(tokens, batch, seq);
    });
    let theirs: Float32Array = new Float32Array(0);
    const peerMs = await time(runs, async () => {
      const t = tf.tensor2d(Int32Array.from(tokens), [batch, seq], 'int32');
      const logits = tfGptLastLogits(tf, params, c, t);
      theirs = (await logits.data()) as Float32Array;
      tf.dispose([t, logits]);
    });
    let diff = 0;
    for (let i = 0; i < ours.length; i++) diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    const toks = batch * seq;
    rows.push({
      batch,
      seq,
      tessel_ms: tesselMs,
      tessel_tok_s: (toks / tesselMs) * 1000,
      tessel_seq_s: (batch / tesselMs) * 1000,
      peer: 'TF.js 4.22 WebGPU',
      peer_ms: peerMs,
      peer_tok_s: (toks / peerMs) * 1000,
      ratio: peerMs / tesselMs,
      max_abs_diff: diff,
    });
  }
  const adapter: AdapterSummary = ctx.summary;
  gpt.destroy();
  ctx.destroy();
  return { adapter, tile, model: { digest: model.digest, config: c }, runs, rows };
}

Object.assign(globalThis, { runInferenceBench });
