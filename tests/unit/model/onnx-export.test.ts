// The shipped checkpoint (public/models/kjv-char) exported to ONNX (src/model/hf/onnx-export.ts)
// and run by ONNX Runtime Web's wasm backend in Node, the baseline the benches compare against:
// the same logits as the float64 reference, within the model's error bound. Every family's
// export on fixture checkpoints is tests/unit/model/hf-onnx.test.ts's.
import { readdirSync, readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web/wasm';
import { expect, test } from 'vitest';
import { loadCheckpoint } from '../../../src/model/hf/checkpoint';
import { logitErrorBound, modelSummary } from '../../../src/model/hf/cost';
import { filesFromMap } from '../../../src/model/hf/files';
import { exportOnnx } from '../../../src/model/hf/onnx-export';
import { gpt2Forward } from '../../../src/model/hf/reference';
import type { Gpt2Config } from '../../../src/model/hf/types';

const dir = 'public/models/kjv-char';

test('ONNX Runtime runs the exported shipped model to the reference logits', async () => {
  const files = new Map(
    readdirSync(dir).map((n) => [n, new Uint8Array(readFileSync(`${dir}/${n}`))]),
  );
  const ck = await loadCheckpoint(filesFromMap(files));
  const config = ck.config as Gpt2Config;
  const model = exportOnnx(ck);
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(model.bytes);
  const vocab = config.vocabSize;
  for (const [batch, seq] of [
    [1, 1],
    [3, 9],
    [2, 64],
  ] as const) {
    const rows = Array.from({ length: batch }, (_, b) =>
      Array.from({ length: seq }, (_, i) => (i * 11 + b * 5 + 3) % vocab),
    );
    const int64 = (v: number[][]) =>
      new ort.Tensor('int64', BigInt64Array.from(v.flat(), BigInt), [batch, seq]);
    const feeds: Record<string, ort.Tensor> = { input_ids: int64(rows) };
    if (model.inputs.includes('attention_mask'))
      feeds.attention_mask = int64(rows.map((r) => r.map(() => 1)));
    const out = (await session.run(feeds))[model.output]!;
    expect(out.dims).toEqual([batch, seq, vocab]);
    const got = out.data as Float32Array;
    const want = gpt2Forward(config, ck.weights, rows);
    let worst = 0;
    let within = true;
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < seq; p++) {
        const w = want[b]![p]!;
        const bound = logitErrorBound(modelSummary(config), Math.max(...Array.from(w, Math.abs)));
        for (let v = 0; v < vocab; v++) {
          const d = Math.abs(got[(b * seq + p) * vocab + v]! - w[v]!);
          worst = Math.max(worst, d);
          within &&= d <= bound;
        }
      }
    }
    expect(within).toBe(true);
    expect(worst).toBeGreaterThan(0); // float32 against float64: not bit-equal by accident
  }
  await session.release();
});
