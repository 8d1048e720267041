// Trains the small character-level GPT-2 shipped in public/models/kjv-char/ on CPU (TF.js's WASM
// backend, 2 cores, a few minutes) and writes it as a Hugging Face checkpoint (config.json,
// model.safetensors, a character tokenizer.json, tokenizer_config.json, generation_config.json:
// training/char-checkpoint.ts), with a report of held-out loss against a unigram baseline.
//   npm run train -- [--minutes 4] [--steps 3000] [--seed 1]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { initTfParams, tfGpt2Logits } from '../src/model/gpt-tf';
import { parseConfig } from '../src/model/hf/config';
import type { Gpt2Config } from '../src/model/hf/types';
import { seededRng } from '../src/model/rng';
import { type CharModelShape, charCheckpointFiles, charConfigJson } from './char-checkpoint';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '4' },
    steps: { type: 'string', default: '3000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'public/models/kjv-char' },
  },
});
const minutes = Number(values.minutes);
const maxSteps = Number(values.steps);
if (!(minutes > 0) || !Number.isInteger(maxSteps) || maxSteps < 1) {
  console.error('usage: npm run train -- [--minutes 4] [--steps 3000] [--seed 1]');
  process.exit(2);
}

setWasmPaths(`${process.cwd()}/node_modules/@tensorflow/tfjs-backend-wasm/dist/`);
await tf.setBackend('wasm');
await tf.ready();

const text = await readFile(
  fileURLToPath(new URL('../training/kjv-torah.txt', import.meta.url)),
  'utf8',
).catch(() => readFile('training/kjv-torah.txt', 'utf8'));
const chars = [...new Set(text)].sort();
const index = new Map(chars.map((ch, i) => [ch, i]));
const ids = Uint32Array.from(text, (ch) => index.get(ch)!);
const split = Math.floor(ids.length * 0.95);
const train = ids.subarray(0, split);
const heldOut = ids.subarray(split);

const shape: CharModelShape = {
  nEmbd: 128,
  nHead: 4,
  nLayer: 2,
  nInner: 512,
  nPositions: 64,
  layerNormEpsilon: 1e-5,
};
const config = parseConfig(charConfigJson(chars, shape)) as Gpt2Config;
const [batch, seq] = [16, config.nPositions];
const rng = seededRng(Number(values.seed));
const params = initTfParams(tf, config, Number(values.seed));

function windows(src: Uint32Array, n: number, pick: () => number) {
  const x = new Int32Array(n * seq);
  const y = new Int32Array(n * seq);
  for (let b = 0; b < n; b++) {
    const at = pick();
    for (let t = 0; t < seq; t++) {
      x[b * seq + t] = src[at + t]!;
      y[b * seq + t] = src[at + t + 1]!;
    }
  }
  return { x: tf.tensor2d(x, [n, seq], 'int32'), y: tf.tensor1d(y, 'int32') };
}

function loss(x: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  const logits = tfGpt2Logits(tf, params, config, x);
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y, config.vocabSize), logits) as tf.Scalar;
}

// A fixed held-out set: 64 evenly spaced windows.
const evalStride = Math.floor((heldOut.length - seq - 1) / 64);
let k = 0;
const evalSet = windows(heldOut, 64, () => k++ * evalStride);
const heldOutLoss = () => tf.tidy(() => loss(evalSet.x, evalSet.y).dataSync()[0]!);

// Unigram baseline: cross-entropy of the training split's character frequencies on held-out text.
const counts = new Float64Array(config.vocabSize).fill(1); // add-one smoothing
for (const c of train) counts[c]!++;
const total = counts.reduce((a, b) => a + b, 0);
let unigram = 0;
for (const c of heldOut) unigram -= Math.log(counts[c]! / total);
unigram /= heldOut.length;

const peakLr = 3e-3;
const warmup = 100;
const optimizer = tf.train.adam(peakLr);
const started = Date.now();
const history: { step: number; train: number; heldOut: number; seconds: number }[] = [];
let step = 0;
let plannedSteps = maxSteps;
console.log(
  `${Object.values(params).reduce((n, p) => n + p.size, 0)} parameters, vocab ${config.vocabSize}`,
);
console.log(`unigram baseline on held-out text: ${unigram.toFixed(3)} nats/char`);
while (step < maxSteps && Date.now() - started < minutes * 60_000) {
  // Warm up, then cosine decay over the steps the time budget allows (re-estimated as we go).
  const elapsed = (Date.now() - started) / 1000;
  if (step >= 20) plannedSteps = Math.min(maxSteps, Math.floor((step / elapsed) * minutes * 60));
  const progress = Math.min(1, step / plannedSteps);
  const lr =
    step < warmup
      ? (peakLr * (step + 1)) / warmup
      : peakLr * (0.1 + 0.45 * (1 + Math.cos(Math.PI * progress)));
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
  const { x, y } = windows(train, batch, () =>
    Math.floor(rng.nextUint32() % (train.length - seq - 1)),
  );
  const cost = optimizer.minimize(() => loss(x, y), true) as tf.Scalar;
  const trainLoss = cost.dataSync()[0]!;
  tf.dispose([x, y, cost]);
  step++;
  if (step % 100 === 0 || step === 1) {
    const h = heldOutLoss();
    const seconds = (Date.now() - started) / 1000;
    history.push({ step, train: trainLoss, heldOut: h, seconds });
    console.log(
      `step ${step}: train ${trainLoss.toFixed(3)}, held-out ${h.toFixed(3)} nats/char (${seconds.toFixed(0)} s, lr ${lr.toExponential(1)})`,
    );
  }
}
const finalHeldOut = heldOutLoss();
const seconds = (Date.now() - started) / 1000;
console.log(
  `done: ${step} steps in ${seconds.toFixed(0)} s; held-out ${finalHeldOut.toFixed(3)} vs unigram ${unigram.toFixed(3)} nats/char`,
);

const out = values.out;
await mkdir(out, { recursive: true });
const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
for (const [name, v] of Object.entries(params))
  tensors[name] = { shape: v.shape, data: v.dataSync() as Float32Array };
const files = charCheckpointFiles(chars, shape, tensors, { text: 'kjv-torah' });
for (const [name, bytes] of Object.entries(files)) await writeFile(`${out}/${name}`, bytes);
await writeFile(
  'training/report.json',
  `${JSON.stringify(
    {
      text: 'training/kjv-torah.txt (95% train, last 5% held out)',
      parameters: Object.values(params).reduce((n, p) => n + p.size, 0),
      config: charConfigJson(chars, shape),
      batch,
      steps: step,
      seconds,
      backend: tf.getBackend(),
      heldOutLoss: finalHeldOut,
      unigramBaseline: unigram,
      history,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${Object.keys(files).join(', ')} to ${out}, and training/report.json`);
