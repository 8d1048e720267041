import { describe, expect, test } from 'vitest';
import { Ops } from '../../../src/gpu/ops';
import { readBack, TENSOR_USAGE, upload } from '../../../src/gpu/transfer';
import { gammaF32 } from '../../../src/reference/matmul';
import { attentionF64, embeddingF64, layernormF64, softmaxF64 } from '../../../src/reference/nn';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();

/** Runs `encode` in one compute pass and reads `outFloats` back from `out`. */
async function run(
  ops: Ops,
  out: GPUBuffer,
  outFloats: number,
  encode: (pass: GPUComputePassEncoder) => void,
) {
  const enc = gpu.ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  encode(pass);
  pass.end();
  const bytes = await readBack(gpu.ctx, out, outFloats * 4, enc);
  ops.release();
  return new Float32Array(bytes);
}

const output = (floats: number) => gpu.ctx.buffers.acquire(floats * 4, TENSOR_USAGE(), 'out');

function expectClose(got: Float32Array, want: Float64Array, tol: (i: number) => number) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i]! - want[i]!) / tol(i);
    expect(r, `element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(1);
    worst = Math.max(worst, r);
  }
  return worst;
}

describe('transformer kernels against float64 references', () => {
  test.each([
    [1, 1],
    [3, 7],
    [17, 128],
    [5, 1000],
  ])('layernorm rows=%i dim=%i', async (rows, dim) => {
    const ops = await Ops.create(gpu.ctx, 16);
    const x = randomMatrix(rows * dim, rows + dim).map((v, i) => v * 3 + (i % 5)); // non-zero means
    const gamma = randomMatrix(dim, 2);
    const beta = randomMatrix(dim, 3);
    const out = output(rows * dim);
    const got = await run(ops, out, rows * dim, (p) =>
      ops.layernorm(
        p,
        upload(gpu.ctx, x, 'x'),
        upload(gpu.ctx, gamma, 'g'),
        upload(gpu.ctx, beta, 'b'),
        out,
        rows,
        dim,
      ),
    );
    const want = layernormF64(x, gamma, beta, rows, dim);
    // Normalised values are O(1); error grows with the reduction length.
    expectClose(got, want, (i) => 8 * gammaF32(dim) * (1 + Math.abs(want[i]!)) + 1e-6);
  });

  test.each([
    [1, 1, 1],
    [4, 10, 10],
    [3, 77, 128], // a padded vocabulary: 77 live columns of 128
    [2, 3000, 3000],
  ])('softmax rows=%i cols=%i stride=%i is stable for large logits', async (rows, cols, stride) => {
    const ops = await Ops.create(gpu.ctx, 16);
    const x = randomMatrix(rows * stride, cols).map((v, i) => v * 30 + (i % 3 === 0 ? 80 : 0)); // exp would overflow unshifted
    const out = output(rows * stride);
    const got = await run(ops, out, rows * stride, (p) =>
      ops.softmax(p, upload(gpu.ctx, x, 'x'), out, rows, cols, stride),
    );
    const want = softmaxF64(x, rows, cols, stride);
    const live = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) live.set(got.subarray(r * stride, r * stride + cols), r * cols);
    expectClose(live, want, (i) => 1e-5 * want[i]! + 1e-7);
  });

  test('residual add, in place, across a 2D grid', async () => {
    const ops = await Ops.create(gpu.ctx, 16);
    const n = 70_001;
    const a = randomMatrix(n, 9);
    const b = randomMatrix(n, 10);
    const x = upload(gpu.ctx, a, 'x');
    const got = await run(ops, x, n, (p) => ops.residual(p, x, upload(gpu.ctx, b, 'y'), n));
    expect(Array.from(got)).toEqual(Array.from(a, (v, i) => Math.fround(v + b[i]!)));
  });

  test('token + position embedding', async () => {
    const ops = await Ops.create(gpu.ctx, 16);
    const [vocab, dim, seq, batch] = [11, 70, 5, 3];
    const wte = randomMatrix(vocab * dim, 4);
    const wpe = randomMatrix(seq * dim, 5);
    const tokens = Uint32Array.from({ length: batch * seq }, (_, i) => (i * 7) % vocab);
    const out = output(batch * seq * dim);
    const got = await run(ops, out, batch * seq * dim, (p) =>
      ops.embedding(
        p,
        upload(gpu.ctx, tokens, 't'),
        upload(gpu.ctx, wte, 'wte'),
        upload(gpu.ctx, wpe, 'wpe'),
        out,
        batch * seq,
        dim,
        seq,
      ),
    );
    expect(Array.from(got)).toEqual(
      Array.from(embeddingF64(tokens, wte, wpe, dim, seq), Math.fround),
    );
  });

  test.each([
    [1, 1, 1, 1],
    [2, 7, 2, 16],
    [3, 33, 4, 32],
    [1, 64, 2, 64],
  ])('causal attention batch=%i seq=%i heads=%i head=%i', async (batch, seq, heads, hd) => {
    const ops = await Ops.create(gpu.ctx, hd);
    const dim = heads * hd;
    const rows = batch * seq;
    const qkv = randomMatrix(rows * 3 * dim, seq + hd).map((v) => v * 2);
    const out = output(rows * dim);
    const got = await run(ops, out, rows * dim, (p) =>
      ops.attention(p, upload(gpu.ctx, qkv, 'qkv'), out, rows, seq, heads, dim),
    );
    const want = attentionF64(qkv, rows, seq, heads, dim);
    // Outputs are convex combinations of V (|v| ≤ 2); the error grows with head size and length.
    expectClose(got, want, () => 16 * gammaF32(hd + seq) * 2 + 1e-6);
  });

  test('a head size outside 1..64 is a typed error', async () => {
    await expect(Ops.create(gpu.ctx, 65)).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
