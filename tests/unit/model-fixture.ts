import type { Engine } from '../../src/jobs/job';
import type { ModelHost } from '../../src/mesh/models';
import {
  type GptConfig,
  gptForwardF64,
  gptTensorShapes,
  parseGptConfig,
} from '../../src/model/gpt';
import { type LoadedModel, loadGpt } from '../../src/model/load';
import { writeSafetensors } from '../../src/model/safetensors';
import { generateBatch } from '../../src/model/sample';
import { randomMatrix } from './gpu-fixture';

/** A small model for tests: 37 tokens, 2 layers, width 64, context 24. */
export const tinyConfig: GptConfig = parseGptConfig({
  vocab: 37,
  dModel: 64,
  nHead: 4,
  nLayer: 2,
  dFF: 256,
  maxSeq: 24,
});

/** A random model, scaled like an initialised one, as a safetensors file. */
export function randomModelFile(c: GptConfig, seed: number): Uint8Array {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  let s = seed;
  for (const [name, shape] of Object.entries(gptTensorShapes(c))) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isGain =
      name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight';
    const data = randomMatrix(n, s++).map((v) => (isGain ? 1 + 0.1 * v : 0.2 * v));
    tensors[name] = { shape, data };
  }
  return writeSafetensors(tensors, { format: 'tessel-gpt' });
}

/**
 * An engine on the float64 reference forward pass (rounded to float32, as a GPU returns it):
 * exact, deterministic and quick for tiny models. `tamper` lets a test play a cheating engine.
 */
export function referenceEngine(
  tamper: {
    logits?: (l: Float32Array) => Float32Array;
    tokens?: (t: Uint32Array) => Uint32Array;
  } = {},
): Engine & ModelHost & { models: Map<string, LoadedModel>; calls: Record<string, number> } {
  const models = new Map<string, LoadedModel>();
  const calls: Record<string, number> = { infer: 0, generate: 0, logitsFrom: 0 };
  const model = (digest: string) => {
    const m = models.get(digest);
    if (!m) throw new Error(`no model ${digest}`);
    return m;
  };
  const lastLogits = async (digest: string, tokens: Uint32Array, batch: number, seq: number) => {
    const m = model(digest);
    return Float32Array.from(gptForwardF64(m.config, m.weights, tokens, batch, seq));
  };
  return {
    models,
    calls,
    async loadModel(file, config) {
      const m = await loadGpt(file, config);
      models.set(m.digest, m);
      return m.digest;
    },
    async hasModel(digest) {
      return models.has(digest);
    },
    async matmul() {
      throw new Error('not a matmul engine');
    },
    async infer(digest, tokens, batch, seq) {
      calls.infer!++;
      const out = await lastLogits(digest, tokens, batch, seq);
      return tamper.logits ? tamper.logits(out) : out;
    },
    async generate(digest, tokens, batch, seq, options) {
      calls.generate!++;
      const m = model(digest);
      const lm = {
        config: m.config,
        forward: (t: Uint32Array, b: number, s: number) => lastLogits(digest, t, b, s),
      };
      const out = await generateBatch(lm, tokens, batch, seq, options);
      return tamper.tokens ? tamper.tokens(out) : out;
    },
    async logitsFrom(digest, tokens, batch, seq, from) {
      calls.logitsFrom!++;
      const { vocab } = model(digest).config;
      const P = seq - from;
      const out = new Float32Array(batch * P * vocab);
      for (let b = 0; b < batch; b++) {
        for (let p = from; p < seq; p++) {
          const prefix = tokens.slice(b * seq, b * seq + p + 1);
          out.set(await lastLogits(digest, prefix, 1, p + 1), (b * P + p - from) * vocab);
        }
      }
      return out;
    },
  };
}
