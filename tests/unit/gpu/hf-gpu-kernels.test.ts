// The Hugging Face WGSL kernels (shaders/hf) on a real WebGPU device, against the float64
// reference (src/model/hf/reference-*.ts), for F32, F16 and BF16 weights (the descriptors are
// checked against their shaders' text, with no device, in hf-kernel-descriptors.test.ts). One file, over the usual length, on purpose: each test file is
// its own process with its own SwiftShader device, and the kernels here share one device and its
// compiled pipelines (the suite runs in ~3 s).
//
// Error bounds, u = 2⁻²⁴ (f32 unit roundoff); the inputs are f32 and the weights k/512 (exact in
// all three formats), so the reference sees exactly the kernel's inputs:
// - linear16: |y − ref| ≤ (in + 2)·u·(Σ|x_i·w_i| + |b|) (a dot product summed in f32);
// - rmsnorm: ≤ (⌈dim/64⌉ + 16)·u·|ref| (per-invocation sums, a 6-level tree, rsqrt, 2 products);
// - layernorm: ≤ (⌈dim/64⌉ + 16)·u·(|w_i|·max|x|/σ + |ref|) (the mean's error, carried through);
// - rope: ≤ 4e−6·(|x_i| + |x_pair|) (angle reduced exactly to within 4 roundings of a turn, plus
//   sin/cos on [−π, π]);
// - swiglu: ≤ (8 + 2|g|)·u·|ref| (WGSL's exp is within 3 + 2|g| ulp);
// - gelu_tanh: ≤ (16 + 2·|2y|)·u·|ref| + 2⁻⁴⁹·|x| (exp's error, the reference's own 1 + tanh);
// - gelu_erf: ≤ (2e−7 + (12 + 1.5·x²)·u)·|ref| (the erfc fit's 1.2e−7, exp's error at −x²/2);
// - attention: ≤ 4·(d + L + 16 + 2R)·u·max|v| (d head size, L visible slots, R score range);
// - embedding_tt: exact (sums of three k/512 values are f32 values);
// - pool: ≤ (seq + ⌈dim/64⌉ + 16)·u·(max|x|/s + |ref|), s the norm when normalising, else 1.

import { describe, expect, test } from 'vitest';
import { type KernelDescriptor, RMSNORM } from '../../../src/gpu/hf/descriptor';
import { KernelEncoder } from '../../../src/gpu/hf/kernel';
import { HfOps, POOL_MODES } from '../../../src/gpu/hf/ops';
import {
  ROPE_EXACT_POSITIONS,
  rotaryTurns,
  storageBuffer,
  uploadIds,
  uploadWeights,
  type WeightFormat,
} from '../../../src/gpu/hf/tensors';
import { readBack, TENSOR_USAGE, upload } from '../../../src/gpu/transfer';
import { poolEmbeddings } from '../../../src/model/hf/reference-bert';
import { visibleSlots } from '../../../src/model/hf/reference-cache';
import { applyRotary, rotaryInvFreq } from '../../../src/model/hf/reference-decoder';
import {
  add,
  attend,
  conv1d,
  geluErf,
  geluTanh,
  layerNorm,
  linear,
  rmsNorm,
  silu,
} from '../../../src/model/hf/reference-ops';
import { bf16ToF64, f16ToF64 } from '../../../src/model/hf/weights';
import { seededRng, uniform } from '../../../src/model/rng';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();
const U = 2 ** -24;
const FORMATS: WeightFormat[] = ['F32', 'F16', 'BF16'];

// ---- weights in three formats -----------------------------------------------------------

/** n values k/512 with k an integer in [−256, 256]: exact in F32, F16 and BF16. */
function weightValues(n: number, seed: number): Float64Array {
  const rng = seededRng(seed);
  return Float64Array.from({ length: n }, () => (Math.floor(uniform(rng) * 513) - 256) / 512);
}

/** IEEE half bits of a value that half represents exactly (a normal number or 0). */
function f16Bits(v: number): number {
  if (v === 0) return 0;
  const a = Math.abs(v);
  const e = Math.floor(Math.log2(a));
  const frac = (a / 2 ** e - 1) * 1024;
  if (!Number.isInteger(frac) || e < -14 || e > 15) throw new Error(`${v} is not a half`);
  return (v < 0 ? 0x8000 : 0) | ((e + 15) << 10) | frac;
}

/** `values` in `format`'s storage, checked to round-trip exactly through the loader's widening. */
function stored(format: WeightFormat, values: Float64Array): Float32Array | Uint16Array {
  if (format === 'F32') return Float32Array.from(values);
  const bits =
    format === 'F16'
      ? Uint16Array.from(values, f16Bits)
      : Uint16Array.from(new Uint32Array(Float32Array.from(values).buffer), (b) => b >>> 16);
  const widen = format === 'F16' ? f16ToF64 : bf16ToF64;
  expect(Array.from(bits, widen)).toEqual(Array.from(values));
  return bits;
}

const weightsOn = (format: WeightFormat, values: Float64Array, label: string) =>
  uploadWeights(gpu.ctx, format, stored(format, values), label);

// ---- running ----------------------------------------------------------------------------

const output = (floats: number) => gpu.ctx.buffers.acquire(floats * 4, TENSOR_USAGE(), 'out');

/** Encodes `work` into one pass, submits it, reads `floats` floats of `out` back. */
async function run(
  ops: HfOps,
  out: GPUBuffer,
  floats: number,
  work: (pass: GPUComputePassEncoder) => Promise<void>,
): Promise<Float32Array> {
  const enc = gpu.ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  await work(pass);
  pass.end();
  const bytes = await readBack(gpu.ctx, out, floats * 4, enc);
  ops.release();
  return new Float32Array(bytes);
}

/** Every |got − want| within tol(i); returns the worst ratio (measured headroom). */
function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, tol: (i: number) => number) {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    const t = tol(i);
    if (!(err <= t)) expect.fail(`element ${i}: ${got[i]} vs ${want[i]} (|err| ${err} > ${t})`);
    worst = Math.max(worst, t > 0 ? err / t : 0);
  }
  return worst;
}

const f64 = (a: Float32Array) => Float64Array.from(a);

// ---- a descriptor the device refuses ----------------------------------------------------

describe('kernel descriptors on the device', () => {
  test('a descriptor that disagrees with its shader fails to build, as a typed error', async () => {
    const enc = new KernelEncoder(gpu.ctx);
    const wrong = {
      ...RMSNORM,
      name: 'rmsnorm-wrong',
      bindings: RMSNORM.bindings.map((b) => (b.name === 'y' ? { ...b, kind: 'read' } : b)),
    } as KernelDescriptor;
    await expect(enc.compile(wrong)).rejects.toMatchObject({ code: 'shader-compile' });
    await expect(
      enc.compile(RMSNORM, { NOPE: 1 } as unknown as Record<'WG', number>),
    ).rejects.toBeDefined();
  });
});

// ---- kernels against the float64 reference ----------------------------------------------

describe.each(FORMATS)('kernels with %s weights', (format) => {
  test.each([
    [3, 7, 1],
    [2, 96, 1],
    [1, 200, 1],
    [4, 32, 1e-3], // mean(x²) near eps: eps must be added where Hugging Face adds it
  ])('rmsnorm rows=%i dim=%i scale=%f', async (rows, dim, scale) => {
    const ops = new HfOps(gpu.ctx);
    const x = randomMatrix(rows * dim, rows + dim).map((v, i) => (v * 3 + (i % 3)) * scale);
    const w = weightValues(dim, dim);
    const out = output(rows * dim);
    const got = await run(ops, out, rows * dim, (pass) =>
      ops.rmsnorm(pass, {
        x: upload(gpu.ctx, x, 'x'),
        w: weightsOn(format, w, 'w'),
        y: out,
        rows,
        dim,
        eps: 1e-6,
      }),
    );
    const want = new Float64Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      want.set(rmsNorm(f64(x.subarray(r * dim, (r + 1) * dim)), w, 1e-6), r * dim);
    }
    expectWithin(got, want, (i) => (Math.ceil(dim / 64) + 16) * U * Math.abs(want[i]!));
  });

  test.each([
    [3, 7],
    [2, 96],
    [1, 200],
  ])('layernorm rows=%i dim=%i', async (rows, dim) => {
    const ops = new HfOps(gpu.ctx);
    const x = randomMatrix(rows * dim, rows * dim).map((v, i) => v * 3 + (i % 5)); // non-zero means
    const w = weightValues(dim, dim + 1);
    const b = weightValues(dim, dim + 2);
    const out = output(rows * dim);
    const got = await run(ops, out, rows * dim, (pass) =>
      ops.layernorm(pass, {
        x: upload(gpu.ctx, x, 'x'),
        w: weightsOn(format, w, 'w'),
        bias: weightsOn(format, b, 'b'),
        y: out,
        rows,
        dim,
        eps: 1e-12,
      }),
    );
    const want = new Float64Array(rows * dim);
    // The error of x − mean scales with max|x|, then is divided by σ and multiplied by w_i.
    const reach = new Float64Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      const xr = f64(x.subarray(r * dim, (r + 1) * dim));
      want.set(layerNorm(xr, w, b, 1e-12), r * dim);
      const mean = xr.reduce((a, v) => a + v, 0) / dim;
      const sigma = Math.sqrt(xr.reduce((a, v) => a + (v - mean) ** 2, 0) / dim);
      const maxX = xr.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
      for (let i = 0; i < dim; i++) reach[r * dim + i] = (Math.abs(w[i]!) * maxX) / sigma;
    }
    const c = (Math.ceil(dim / 64) + 16) * U;
    expectWithin(got, want, (i) => c * (reach[i]! + Math.abs(want[i]!)));
  });

  test.each([
    [5, 3, 37, 19, false],
    [17, 2, 40, 33, true],
    [1, 1, 64, 5, true],
  ])(
    'linear16 rows=%i (seed %i) in=%i out=%i bias=%s',
    async (rows, seed, inDim, outDim, hasBias) => {
      const ops = new HfOps(gpu.ctx);
      const x = randomMatrix(rows * inDim, seed);
      const w = weightValues(outDim * inDim, seed + 1);
      const b = hasBias ? weightValues(outDim, seed + 2) : undefined;
      const out = output(rows * outDim);
      const got = await run(ops, out, rows * outDim, (pass) =>
        ops.linear(pass, {
          x: upload(gpu.ctx, x, 'x'),
          w: weightsOn(format, w, 'w'),
          ...(b ? { bias: weightsOn(format, b, 'b') } : {}),
          y: out,
          rows,
          inDim,
          outDim,
        }),
      );
      const want = new Float64Array(rows * outDim);
      const magnitude = new Float64Array(rows * outDim);
      const absW = w.map(Math.abs);
      for (let r = 0; r < rows; r++) {
        const xr = f64(x.subarray(r * inDim, (r + 1) * inDim));
        want.set(linear(xr, w, b, outDim), r * outDim);
        magnitude.set(linear(xr.map(Math.abs), absW, b?.map(Math.abs), outDim), r * outDim);
      }
      expectWithin(got, want, (i) => (inDim + 2) * U * magnitude[i]!);
    },
  );

  test('linear16 as GPT-2 Conv1D: W stored [in, out]', async () => {
    const ops = new HfOps(gpu.ctx);
    const [rows, inDim, outDim] = [6, 21, 35];
    const x = randomMatrix(rows * inDim, 11);
    const w = weightValues(inDim * outDim, 12);
    const b = weightValues(outDim, 13);
    const out = output(rows * outDim);
    const got = await run(ops, out, rows * outDim, (pass) =>
      ops.linear(pass, {
        x: upload(gpu.ctx, x, 'x'),
        w: weightsOn(format, w, 'w'),
        bias: weightsOn(format, b, 'b'),
        y: out,
        rows,
        inDim,
        outDim,
        conv1d: true,
      }),
    );
    const want = new Float64Array(rows * outDim);
    const magnitude = new Float64Array(rows * outDim);
    for (let r = 0; r < rows; r++) {
      const xr = f64(x.subarray(r * inDim, (r + 1) * inDim));
      want.set(conv1d(xr, w, b, outDim), r * outDim);
      magnitude.set(conv1d(xr.map(Math.abs), w.map(Math.abs), b.map(Math.abs), outDim), r * outDim);
    }
    expectWithin(got, want, (i) => (inDim + 2) * U * magnitude[i]!);
  });

  test('embedding_tt: word + token type + position, exactly', async () => {
    const ops = new HfOps(gpu.ctx);
    const [vocab, positions, types, dim] = [11, 9, 2, 70];
    const word = weightValues(vocab * dim, 1);
    const pos = weightValues(positions * dim, 2);
    const typ = weightValues(types * dim, 3);
    const tokens = [3, 10, 0, 7, 7, 1];
    const posIds = [0, 1, 2, 0, 1, 8];
    const typeIds = [0, 0, 1, 1, 0, 1];
    const rows = tokens.length;
    const out = output(rows * dim);
    const got = await run(ops, out, rows * dim, (pass) =>
      ops.embedding(pass, {
        tokenIds: uploadIds(gpu.ctx, tokens, vocab, 'tokens'),
        positionIds: uploadIds(gpu.ctx, posIds, positions, 'positions'),
        typeIds: uploadIds(gpu.ctx, typeIds, types, 'types'),
        word: weightsOn(format, word, 'word'),
        position: weightsOn(format, pos, 'position'),
        tokenType: weightsOn(format, typ, 'type'),
        out,
        rows,
        dim,
      }),
    );
    const row = (m: Float64Array, i: number) => m.subarray(i * dim, (i + 1) * dim);
    const want = tokens.flatMap((t, r) => [
      ...add(add(row(word, t), row(typ, typeIds[r]!)), row(pos, posIds[r]!)),
    ]);
    expect(Array.from(got)).toEqual(want);
  });
});

describe('activation, rotary, attention and pooling kernels', () => {
  test.each([
    [5, 3, 16, 10_000],
    [4, 2, 64, 1_000_000],
  ])('rope tokens=%i heads=%i headDim=%i theta=%i', async (tokens, heads, headDim, theta) => {
    const ops = new HfOps(gpu.ctx);
    const n = tokens * heads * headDim;
    const x = randomMatrix(n, headDim).map((v) => v * 4);
    const positions = [0, 1, 7, 4095, ROPE_EXACT_POSITIONS - 1].slice(0, tokens);
    const invFreq = rotaryInvFreq(headDim, theta);
    const buf = upload(gpu.ctx, x, 'x');
    const got = await run(ops, buf, n, (pass) =>
      ops.rope(pass, {
        x: buf,
        positions: uploadIds(gpu.ctx, positions, 2 ** 32, 'positions'),
        turns: upload(gpu.ctx, rotaryTurns(invFreq), 'turns'),
        tokens,
        heads,
        headDim,
      }),
    );
    const want = f64(x);
    for (let t = 0; t < tokens; t++) {
      for (let h = 0; h < heads; h++) {
        applyRotary(want, (t * heads + h) * headDim, headDim, positions[t]!, invFreq);
      }
    }
    const half = headDim / 2;
    expectWithin(got, want, (i) => {
      const pair = i % headDim < half ? i + half : i - half;
      return 4e-6 * (Math.abs(x[i]!) + Math.abs(x[pair]!));
    });
  });

  test('rotaryTurns splits each frequency into exact 7-bit parts', () => {
    const invFreq = rotaryInvFreq(128, 500_000);
    const turns = rotaryTurns(invFreq);
    invFreq.forEach((f, i) => {
      const parts = Array.from(turns.subarray(4 * i, 4 * i + 4));
      for (const p of parts.slice(0, 3)) {
        // 7 significant bits: p·2^k is an integer below 2^7 for the right k.
        const k = p === 0 ? 0 : 6 - Math.floor(Math.log2(Math.abs(p)));
        expect(Number.isInteger(p * 2 ** k) && Math.abs(p * 2 ** k) < 128).toBe(true);
        const product = (ROPE_EXACT_POSITIONS - 1) * p; // exact in f32: rope.wgsl's premise
        expect(Math.fround(product)).toBe(product);
      }
      const sum = parts.reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - f / (2 * Math.PI))).toBeLessThanOrEqual(U * 2 ** -20 * f);
    });
  });

  test('swiglu: silu(gate)·up, in place', async () => {
    const ops = new HfOps(gpu.ctx);
    const n = 1000;
    const gate = randomMatrix(n, 1).map((v) => v * 12);
    const up = randomMatrix(n, 2);
    const buf = upload(gpu.ctx, gate, 'gate');
    const got = await run(ops, buf, n, (pass) =>
      ops.swiglu(pass, { gate: buf, up: upload(gpu.ctx, up, 'up'), n }),
    );
    const want = Array.from(gate, (g, i) => silu(g) * up[i]!);
    expectWithin(got, want, (i) => (8 + 2 * Math.abs(gate[i]!)) * U * Math.abs(want[i]!));
  });

  test('gelu_erf against erf GELU to ~1e-6 relative on [-9, 9]', async () => {
    // Beyond x ≈ −6 the reference's own 1 + erf (float64, its erf a series good to ~8 ulp) loses
    // the tail to cancellation: the bound adds 16 ulp of 1 in erf, 0.5·|x|·16·2⁻⁵² = 2⁻⁴⁹·|x|.
    // (At x = −8.458 the kernel gives −1.15277e−16, the true value −1.15276e−16, the reference
    // −3.29e−15.)
    const ops = new HfOps(gpu.ctx);
    const special = [0, 1e-3, -1e-3, 0.5, -0.5, 1, -1, 3, -3, 5.5, -5.5, 9, -9];
    const x = Float32Array.from([...special, ...randomMatrix(2000, 3).map((v) => v * 9)]);
    const buf = upload(gpu.ctx, x, 'x');
    const got = await run(ops, buf, x.length, (pass) => ops.geluErf(pass, { x: buf, n: x.length }));
    const want = Array.from(x, geluErf);
    const worst = expectWithin(got, want, (i) => {
      return (2e-7 + (12 + 1.5 * x[i]! ** 2) * U) * Math.abs(want[i]!) + 2 ** -49 * Math.abs(x[i]!);
    });
    expect(worst).toBeLessThanOrEqual(1);
  });

  test('gelu_tanh (gelu_new) against the reference on [-9, 9]', async () => {
    const ops = new HfOps(gpu.ctx);
    const special = [0, 1e-3, -1e-3, 0.5, -0.5, 1, -1, 3, -3, 5.5, -5.5, 9, -9];
    const x = Float32Array.from([...special, ...randomMatrix(2000, 4).map((v) => v * 9)]);
    const buf = upload(gpu.ctx, x, 'x');
    const got = await run(ops, buf, x.length, (pass) =>
      ops.geluTanh(pass, { x: buf, n: x.length }),
    );
    const want = Array.from(x, geluTanh);
    expectWithin(got, want, (i) => {
      const v = x[i]!;
      const y = Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3);
      return (16 + 4 * Math.abs(y)) * U * Math.abs(want[i]!) + 2 ** -49 * Math.abs(v);
    });
  });

  /** The slots query t of sequence b sees, per the kernel's contract. */
  function allowedSlots(
    valid: [number, number],
    capacity: number,
    slot: number,
    causal: boolean,
    window?: number,
  ): number[] {
    const mask = Array.from({ length: capacity }, (_, j) =>
      j >= valid[0] && j < valid[1] ? 1 : 0,
    );
    if (causal) return visibleSlots(mask, slot, window);
    return mask.flatMap((m, j) => (m === 1 ? [j] : []));
  }

  test.each([
    // batch, tokens, heads, kvHeads, headDim, capacity, past, valid ranges, causal, window
    [
      2,
      3,
      4,
      2,
      16,
      8,
      4,
      [
        [0, 7],
        [2, 7],
      ],
      true,
      0,
    ],
    [
      2,
      3,
      4,
      2,
      16,
      8,
      4,
      [
        [0, 7],
        [2, 7],
      ],
      true,
      3,
    ],
    [1, 1, 2, 1, 80, 150, 149, [[5, 150]], true, 0],
    [1, 2, 14, 2, 256, 40, 38, [[3, 40]], true, 0], // Qwen2.5-0.5B's 14/2 heads, largest head
    [1, 2, 2, 2, 8, 4, 2, [[3, 4]], true, 0], // token 0 sees no slot: zeros
    [
      2,
      5,
      2,
      2,
      8,
      5,
      0,
      [
        [0, 5],
        [0, 3],
      ],
      false,
      0,
    ], // an encoder, right-padded
  ] as const)(
    'attention_gqa batch=%i tokens=%i heads=%i kv=%i d=%i capacity=%i past=%i valid=%j causal=%s window=%i',
    async (batch, tokens, heads, kvHeads, hd, capacity, past, valid, causal, window) => {
      const ops = new HfOps(gpu.ctx);
      const qn = batch * tokens * heads * hd;
      const kvn = batch * capacity * kvHeads * hd;
      const q = randomMatrix(qn, hd + 1).map((v) => v * 2);
      const k = randomMatrix(kvn, hd + 2).map((v) => v * 2);
      const v = randomMatrix(kvn, hd + 3);
      const out = output(qn);
      const got = await run(ops, out, qn, (pass) =>
        ops.attention(pass, {
          q: upload(gpu.ctx, q, 'q'),
          k: upload(gpu.ctx, k, 'k'),
          v: upload(gpu.ctx, v, 'v'),
          valid: upload(gpu.ctx, Uint32Array.from(valid.flat()), 'valid'),
          out,
          batch,
          tokens,
          heads,
          kvHeads,
          headDim: hd,
          capacity,
          past,
          window,
          causal,
        }),
      );
      const want = new Float64Array(qn);
      const scale = 1 / Math.sqrt(hd);
      const slotRows = (m: Float32Array, b: number) =>
        Array.from({ length: capacity }, (_, j) => {
          const at = (b * capacity + j) * kvHeads * hd;
          return f64(m.subarray(at, at + kvHeads * hd));
        });
      let bound = 0;
      for (let b = 0; b < batch; b++) {
        const keys = slotRows(k, b);
        const values = slotRows(v, b);
        for (let t = 0; t < tokens; t++) {
          const seen = allowedSlots(
            [valid[b]![0], valid[b]![1]],
            capacity,
            past + t,
            causal,
            window || undefined,
          );
          const qRow = f64(
            q.subarray((b * tokens + t) * heads * hd, (b * tokens + t + 1) * heads * hd),
          );
          for (let h = 0; h < heads; h++) {
            const kvOff = Math.floor(h / (heads / kvHeads)) * hd;
            const o = attend(qRow, h * hd, keys, values, kvOff, hd, scale, seen);
            want.set(o, ((b * tokens + t) * heads + h) * hd);
            // Score range R over the visible slots, for the bound.
            const s = seen.map((j) => {
              let d = 0;
              for (let i = 0; i < hd; i++) d += qRow[h * hd + i]! * keys[j]![kvOff + i]!;
              return d * scale;
            });
            const R = s.length ? Math.max(...s) - Math.min(...s) : 0;
            bound = Math.max(bound, 4 * (hd + seen.length + 16 + 2 * R) * U);
          }
        }
      }
      const maxV = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectWithin(got, want, () => bound * maxV);
    },
  );

  test.each(Object.keys(POOL_MODES).flatMap((m) => [[m, false] as const, [m, true] as const]))(
    'pool mode=%s normalize=%s',
    async (mode, normalize) => {
      const ops = new HfOps(gpu.ctx);
      const [batch, seq, dim] = [3, 5, 70];
      const mask = [
        [1, 1, 1, 0, 0],
        [0, 0, 1, 1, 1],
        [0, 0, 0, 0, 0],
      ];
      const hidden = randomMatrix(batch * seq * dim, 7).map((v) => v * 3);
      const out = output(batch * dim);
      const got = await run(ops, out, batch * dim, (pass) =>
        ops.pool(pass, {
          hidden: upload(gpu.ctx, hidden, 'hidden'),
          mask: uploadIds(gpu.ctx, mask.flat(), 2, 'mask'),
          out,
          batch,
          seq,
          dim,
          mode: mode as keyof typeof POOL_MODES,
          normalize,
        }),
      );
      const rows = Array.from({ length: batch }, (_, b) =>
        Array.from({ length: seq }, (_, t) =>
          f64(hidden.subarray((b * seq + t) * dim, (b * seq + t + 1) * dim)),
        ),
      );
      const pooling = { mode: mode as keyof typeof POOL_MODES, normalize };
      const want = poolEmbeddings(rows, mask, pooling);
      const raw = poolEmbeddings(rows, mask, { mode: pooling.mode, normalize: false });
      const c = (seq + Math.ceil(dim / 64) + 16) * U;
      for (let b = 0; b < batch; b++) {
        const norm = normalize ? Math.max(Math.hypot(...raw[b]!), 1e-12) : 1;
        // Max mode fills padded tokens with −1e9, so that is the scale of an all-padding row.
        const maxX = mode === 'max' && !mask[b]!.includes(1) ? 1e9 : 3;
        const wantB = want[b]!;
        expectWithin(
          got.subarray(b * dim, (b + 1) * dim),
          wantB,
          (i) => c * (maxX / norm + Math.abs(wantB[i]!)),
        );
      }
    },
  );

  test('bad sizes, short buffers and out-of-range ids are typed errors', async () => {
    const ops = new HfOps(gpu.ctx);
    const enc = gpu.ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    const small = storageBuffer(gpu.ctx, 16, 'small');
    const w = uploadWeights(gpu.ctx, 'F16', new Uint16Array(3), 'w');
    const invalid = expect.objectContaining({ code: 'invalid-argument' });
    await expect(
      ops.rmsnorm(pass, { x: small, w, y: small, rows: 2, dim: 3, eps: 1e-6 }),
    ).rejects.toEqual(invalid);
    await expect(
      ops.rmsnorm(pass, { x: small, w, y: small, rows: 0, dim: 3, eps: 1e-6 }),
    ).rejects.toEqual(invalid);
    await expect(
      ops.linear(pass, { x: small, w, y: small, rows: 1, inDim: 2, outDim: 2 }),
    ).rejects.toEqual(invalid);
    await expect(
      ops.attention(pass, {
        q: small,
        k: small,
        v: small,
        valid: small,
        out: small,
        batch: 1,
        tokens: 1,
        heads: 3,
        kvHeads: 2,
        headDim: 1,
        capacity: 1,
        past: 0,
      }),
    ).rejects.toEqual(invalid);
    await expect(
      ops.attention(pass, {
        q: small,
        k: small,
        v: small,
        valid: small,
        out: small,
        batch: 1,
        tokens: 1,
        heads: 1,
        kvHeads: 1,
        headDim: 257, // over MAX_HEAD_DIM
        capacity: 1,
        past: 0,
      }),
    ).rejects.toEqual(invalid);
    await expect(
      ops.rope(pass, { x: small, positions: small, turns: small, tokens: 1, heads: 1, headDim: 3 }),
    ).rejects.toEqual(invalid);
    const big = storageBuffer(gpu.ctx, 64, 'big');
    const w4 = uploadWeights(gpu.ctx, 'F32', new Float32Array(4), 'w4');
    await expect(
      ops.linear(pass, { x: big, w: w4, y: big, rows: 2, inDim: 2, outDim: 2 }),
    ).rejects.toEqual(invalid); // y is also x
    expect(() => uploadIds(gpu.ctx, [0, 5], 5, 'tokens')).toThrow(invalid);
    expect(() => uploadIds(gpu.ctx, [0.5], 5, 'tokens')).toThrow(invalid);
    expect(() => uploadWeights(gpu.ctx, 'BF16', new Float32Array(2), 'w')).toThrow(invalid);
    pass.end();
    enc.finish();
  });
});
