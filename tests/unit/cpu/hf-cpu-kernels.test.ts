// The CPU engine's Hugging Face kernels (assembly/hf.ts through src/cpu/kernels.ts) against the
// float64 reference of src/model/hf (reference-ops.ts, reference-decoder.ts), on 1 and 2 threads,
// each within a float32 bound stated beside it. Weights are k/512 (|k| ≤ 255), exact in F32, F16
// and BF16, so one reference serves every dtype (engines and inputs:
// tests/support/cpu-kernels-fixture.ts).
import { afterAll, describe, expect, test } from 'vitest';
import type { CpuWeightDtype } from '../../../src/cpu/kernels';
import { applyRotary, rotaryInvFreq } from '../../../src/model/hf/reference-decoder';
import { attend, geluErf, linear, rmsNorm, silu } from '../../../src/model/hf/reference-ops';
import { bf16ToF64, f16ToF64 } from '../../../src/model/hf/weights';
import { gammaF32, U_F32 } from '../../../src/reference/matmul';

import {
  disposeEngines,
  engine,
  F16_BITS,
  putWeights,
  randoms,
  weightValues,
} from '../../support/cpu-kernels-fixture';

afterAll(disposeEngines);

const U = U_F32;

describe.each([1, 2])('Hugging Face kernels on the CPU engine, %i thread(s)', (threads) => {
  test.each([
    [7, 64, 3],
    [3, 13, 3], // a row that is not a multiple of 4
    [1, 576, 3],
    [4, 32, 3e-3], // mean(x²) near eps: where eps goes matters
  ])(
    'rmsnorm (%i rows of %i, |x| < %f) within (γ_dim + 8u)·|y| of the reference',
    async (rows, dim, range) => {
      const cpu = await engine(threads);
      const x = randoms(rows * dim, rows + dim, -range, range);
      const w = Float32Array.from({ length: dim }, (_, i) => 1 + ((i % 65) - 32) / 128);
      const eps = 1e-6;
      const got = await cpu.frame(async () => {
        const px = cpu.put(x);
        await cpu.rmsnorm(px, cpu.put(w), px, rows, dim, eps); // in place, as Qwen3's q/k norm runs
        return cpu.view(px, rows * dim).slice();
      });
      const tol = gammaF32(dim) + 8 * U;
      for (let r = 0; r < rows; r++) {
        const want = rmsNorm(
          Float64Array.from(x.subarray(r * dim, (r + 1) * dim)),
          Float64Array.from(w),
          eps,
        );
        for (let i = 0; i < dim; i++) {
          expect(Math.abs(got[r * dim + i]! - want[i]!)).toBeLessThanOrEqual(
            tol * Math.abs(want[i]!),
          );
        }
      }
    },
  );

  test.each([
    [16, 10_000],
    [10, 1_000_000], // half = 5: a vector of 4 and a tail of 1
  ])(
    'rope (head_dim %i, θ %i) within (|x₁|+|x₂|)·(pos·f·u + 5u) of the reference',
    async (headDim, theta) => {
      const cpu = await engine(threads);
      const [tokens, heads] = [6, 3];
      const positions = Int32Array.from([0, 1, 2, 7, 1000, 40_000]);
      const invFreq64 = rotaryInvFreq(headDim, theta);
      const x = randoms(tokens * heads * headDim, headDim, -2, 2);
      const got = await cpu.frame(async () => {
        const px = cpu.put(x);
        const pp = cpu.putInt32(positions);
        const pf = cpu.put(Float32Array.from(invFreq64)); // the caller's float32 rounding
        await cpu.rope(px, pp, pf, tokens, heads, headDim);
        return cpu.view(px, x.length).slice();
      });
      const half = headDim / 2;
      for (let t = 0; t < tokens; t++) {
        for (let h = 0; h < heads; h++) {
          const off = (t * heads + h) * headDim;
          const want = Float64Array.from(x);
          applyRotary(want, off, headDim, positions[t]!, invFreq64);
          for (let d = 0; d < headDim; d++) {
            const i = d % half;
            const pair = Math.abs(x[off + i]!) + Math.abs(x[off + i + half]!);
            // invFreq rounded to float32 (relative u) moves the angle by pos·f·u; cos, sin and
            // the two products and the sum round once each.
            const tol = pair * (positions[t]! * invFreq64[i]! * U + 5 * U);
            expect(Math.abs(got[off + d]! - want[off + d]!)).toBeLessThanOrEqual(tol);
          }
        }
      }
    },
  );

  test('swiglu within 8u·|y| of silu(gate)·up (exact 0 where the result underflows)', async () => {
    const cpu = await engine(threads);
    const [rows, n] = [5, 37];
    const gate = randoms(rows * n, 1, -30, 30);
    gate.set([0, -0, 100, -100, 1e4, -1e4, 88.5, -88.5, 1e-30, -1e-30]);
    const up = randoms(rows * n, 2, -2, 2);
    const got = await cpu.frame(async () => {
      const pg = cpu.put(gate);
      const pu = cpu.put(up);
      const out = cpu.alloc(rows * n);
      await cpu.swiglu(pg, pu, out, rows, n);
      return cpu.view(out, rows * n).slice();
    });
    for (let i = 0; i < rows * n; i++) {
      const want = silu(gate[i]!) * up[i]!;
      // Below the smallest normal float32 the kernel's e^−|g| is 0: |y| < 2⁻¹²⁶·|g·up| there.
      const floor = 2 ** -126 * Math.abs(gate[i]! * up[i]!);
      expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(8 * U * Math.abs(want) + floor);
    }
  });

  test('gelu_erf within 8u·|y| of 0.5·x·(1 + erf(x/√2)), the far negative tail included', async () => {
    const cpu = await engine(threads);
    // Dense over [−14, 14] (erf's two fits meet at |x| = √2), then random.
    const x = new Float32Array(4003 + 997);
    for (let i = 0; i < 4001; i++) x[i] = -14 + (28 * i) / 4000;
    x[4001] = Math.SQRT2;
    x[4002] = -Math.SQRT2;
    x.set(randoms(997, 3, -6, 6), 4003);
    const got = await cpu.frame(async () => {
      const px = cpu.put(x);
      const py = cpu.alloc(x.length);
      await cpu.geluErf(px, py, 5, x.length / 5);
      return cpu.view(py, x.length).slice();
    });
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const want = geluErf(x[i]!);
      const err = Math.abs(got[i]! - want);
      // The reference's 1 + erf(x/√2) cancels in float64 for x < 0, leaving its erf's own
      // absolute error (float64 rounding of x²/2 in e^(−x²/2), (x²/2 + 4)·2⁻⁵³) times x/2: the
      // goldens below check that tail instead. Values below float32's normal range
      // (|y| < 2⁻¹²⁶, past x ≈ −13) may flush to 0.
      const ref = x[i]! < 0 ? Math.abs(x[i]!) * (x[i]! ** 2 / 2 + 4) * 2 ** -54 : 0;
      expect(err).toBeLessThanOrEqual(8 * U * Math.abs(want) + ref + 2 ** -126);
      if (Math.abs(want) > 2 ** -20) worst = Math.max(worst, err / Math.abs(want));
    }
    console.log(
      `gelu_erf: worst relative error ${worst.toExponential(2)} (${(worst / U).toFixed(1)}u)`,
    );
    // The far negative tail, where the reference cancels: 0.5·x·erfc(−x/√2) from mpmath at 30
    // digits (Python: mpmath.erfc), to 8u relative.
    const tail: [number, number][] = [
      [-1.5, -0.1002108019032871],
      [-3.5, -0.0008142017766243376],
      [-5, -1.4332578593959695e-6],
      [-7.25, -1.5107971650372503e-12],
      [-9, -1.0157295653584566e-18],
      [-11, -2.1017255319485433e-27],
      [-12.5, -4.665705373597142e-35],
      [-13, -7.952313719414843e-38],
    ];
    const far = await cpu.frame(async () => {
      const px = cpu.put(Float32Array.from(tail, ([v]) => v));
      await cpu.geluErf(px, px, 1, tail.length);
      return Array.from(cpu.view(px, tail.length));
    });
    tail.forEach(([, want], i) => {
      expect(Math.abs(far[i]! - want)).toBeLessThanOrEqual(8 * U * Math.abs(want));
    });
    const special = await cpu.frame(async () => {
      const px = cpu.put(Float32Array.from([Infinity, -Infinity, Number.NaN, 30, -30, 0]));
      await cpu.geluErf(px, px, 1, 6);
      return Array.from(cpu.view(px, 6));
    });
    // torch: gelu(∞) = ∞, gelu(−∞) = −∞·0 = NaN, NaN stays NaN.
    expect(special).toEqual([Infinity, Number.NaN, Number.NaN, 30, -0, 0]);
  });

  describe.each(['F32', 'F16', 'BF16'] as const)('linear16 over %s weights', (dtype) => {
    test.each([
      [1, 64, 24, true],
      [2, 37, 9, false], // K and N off every vector and block size
      [1, 37, 9, true], // one row (a decode step), K off the vector width
      [5, 2100, 7, true], // K past one widened block (LINEAR_DEPTH)
      [9, 300, 33, false],
    ])(
      'y (%i×%i·%i) within γ_(K+1)·(|x|·|W| + |b|) of x·Wᵀ + b',
      async (rows, inF, outF, hasBias) => {
        const cpu = await engine(threads);
        const x = randoms(rows * inF, rows * inF, -2, 2);
        const w = weightValues(outF * inF, outF);
        const b = hasBias ? weightValues(outF, 7) : undefined;
        const got = await cpu.frame(async () => {
          const px = cpu.put(x);
          const pw = putWeights(cpu, w, dtype);
          const pb = b ? cpu.put(Float32Array.from(b)) : 0;
          const py = cpu.alloc(rows * outF);
          await cpu.linear16(px, pw, dtype, py, rows, inF, outF, pb);
          return cpu.view(py, rows * outF).slice();
        });
        const absW = w.map(Math.abs);
        for (let r = 0; r < rows; r++) {
          const xr = Float64Array.from(x.subarray(r * inF, (r + 1) * inF));
          const want = linear(xr, w, b, outF);
          const mag = linear(xr.map(Math.abs), absW, b?.map(Math.abs), outF);
          for (let o = 0; o < outF; o++) {
            expect(Math.abs(got[r * outF + o]! - want[o]!)).toBeLessThanOrEqual(
              gammaF32(inF + 1) * mag[o]!,
            );
          }
        }
      },
    );
  });

  test.each([
    ['F32', 64],
    ['F16', 37], // a row off the vector width
    ['BF16', 40],
  ] as const)(
    'embed16 over a %s table (dim %i): word + position + token type, exactly as float32 adds them',
    async (dtype, dim) => {
      const cpu = await engine(threads);
      const [vocab, maxPos, types, tokens] = [50, 16, 2, 9];
      const word = weightValues(vocab * dim, 31);
      const pos = weightValues(maxPos * dim, 32);
      const type = weightValues(types * dim, 33);
      const ids = Int32Array.from({ length: tokens }, (_, i) => (i * 17 + 3) % vocab);
      const positions = Int32Array.from({ length: tokens }, (_, i) => (i + 2) % maxPos);
      const typeIds = Int32Array.from({ length: tokens }, (_, i) => (i > 4 ? 1 : 0));
      const got = await cpu.frame(async () => {
        const out = cpu.alloc(tokens * dim);
        const lookup = async (table: Float64Array, rows: number, at: Int32Array, acc: boolean) =>
          cpu.embed16(
            cpu.putInt32(at),
            putWeights(cpu, table, dtype),
            dtype,
            out,
            tokens,
            rows,
            dim,
            acc,
          );
        await lookup(word, vocab, ids, false);
        await lookup(pos, maxPos, positions, true);
        await lookup(type, types, typeIds, true);
        return cpu.view(out, tokens * dim).slice();
      });
      const want = Float32Array.from({ length: tokens * dim }, (_, n) => {
        const [t, i] = [Math.floor(n / dim), n % dim];
        const sum = Math.fround(word[ids[t]! * dim + i]! + pos[positions[t]! * dim + i]!);
        return sum + type[typeIds[t]! * dim + i]!;
      });
      expect(got).toEqual(want);
    },
  );

  test.each([
    [4, 2, 8],
    [4, 1, 6], // multi-query, head_dim off the vector width
    [3, 3, 8], // plain multi-head
  ])(
    'attention_gqa (%i heads over %i kv heads, d %i) within float32 bounds of the reference',
    async (heads, kvHeads, d) => {
      const cpu = await engine(threads);
      // Two sequences of 20 cache rows in one buffer; the first left-padded by 3.
      const seqLen = 20;
      const cacheRows = 2 * seqLen;
      const k = randoms(cacheRows * kvHeads * d, 11, -2, 2);
      const v = randoms(cacheRows * kvHeads * d, 12, -2, 2);
      // Queries: prefill positions of sequence 0 (a pad query among them), decode of sequence 1.
      const ranges = Int32Array.from([
        ...[0, 0], // slot 1 of sequence 0: padding, sees nothing
        ...[3, 4],
        ...[3, 9],
        ...[3, 20],
        ...[seqLen, seqLen + 17],
        ...[seqLen + 5, seqLen + 18], // a sliding window
      ]);
      const tokens = ranges.length / 2;
      const q = randoms(tokens * heads * d, 13, -2, 2);
      const got = await cpu.frame(async () => {
        const out = cpu.alloc(tokens * heads * d);
        await cpu.attentionGqa({
          q: cpu.put(q),
          k: cpu.put(k),
          v: cpu.put(v),
          ranges: cpu.putInt32(ranges),
          out,
          tokens,
          heads,
          kvHeads,
          headDim: d,
          cacheRows,
        });
        return cpu.view(out, tokens * heads * d).slice();
      });
      const row = (a: Float32Array, j: number) =>
        Float64Array.from(a.subarray(j * kvHeads * d, (j + 1) * kvHeads * d));
      const keys = Array.from({ length: cacheRows }, (_, j) => row(k, j));
      const values = Array.from({ length: cacheRows }, (_, j) => row(v, j));
      const scale = 1 / Math.sqrt(d);
      const q64 = Float64Array.from(q);
      for (let t = 0; t < tokens; t++) {
        const allowed: number[] = [];
        for (let j = ranges[2 * t]!; j < ranges[2 * t + 1]!; j++) allowed.push(j);
        for (let h = 0; h < heads; h++) {
          const kvOff = Math.floor(h / (heads / kvHeads)) * d;
          const qOff = (t * heads + h) * d;
          const want = attend(q64, qOff, keys, values, kvOff, d, scale, allowed);
          // Each score is off by δ ≤ γ_(d+1)·Σ|q·k|·scale; a weight by ≤ 2δ + 3u (exp) twice
          // over (weight and sum); the weighted sum and the sum of weights by γ_count each.
          let delta = 0;
          let vMax = 0;
          for (const j of allowed) {
            let s = 0;
            for (let i = 0; i < d; i++) s += Math.abs(q64[qOff + i]! * keys[j]![kvOff + i]!);
            delta = Math.max(delta, gammaF32(d + 1) * s * scale);
            for (let i = 0; i < d; i++) vMax = Math.max(vMax, Math.abs(values[j]![kvOff + i]!));
          }
          const tol = (4 * delta + 8 * U + 2 * gammaF32(allowed.length + 2)) * vMax;
          for (let i = 0; i < d; i++) {
            expect(Math.abs(got[qOff + i]! - want[i]!)).toBeLessThanOrEqual(tol);
          }
        }
      }
    },
  );
});

test('every kernel gives bit-identical results on 1 and 2 threads (threads split rows only)', async () => {
  const run = async (threads: number) => {
    const cpu = await engine(threads);
    return cpu.frame(async () => {
      const [rows, dim, heads, kvHeads, d] = [9, 96, 4, 2, 24];
      const x = cpu.put(randoms(rows * dim, 21, -2, 2));
      await cpu.rmsnorm(x, cpu.put(randoms(dim, 22)), x, rows, dim, 1e-5);
      const w = cpu.putBits(Uint16Array.from(weightValues(dim * dim, 23), (v) => F16_BITS.get(v)!));
      const y = cpu.alloc(rows * dim);
      await cpu.linear16(x, w, 'F16', y, rows, dim, dim);
      const pos = cpu.putInt32(Int32Array.from({ length: rows }, (_, i) => i * 3));
      await cpu.rope(y, pos, cpu.put(Float32Array.from(rotaryInvFreq(d, 10_000))), rows, heads, d);
      const g = cpu.alloc(rows * dim);
      await cpu.swiglu(y, x, g, rows, dim);
      await cpu.geluErf(g, g, rows, dim);
      const kv = cpu.put(randoms(rows * kvHeads * d, 24));
      const ranges = cpu.putInt32(
        Int32Array.from({ length: 2 * rows }, (_, i) => (i % 2 ? (i + 1) / 2 : 0)),
      );
      const out = cpu.alloc(rows * dim);
      const gqa = {
        q: g,
        k: kv,
        v: kv,
        ranges,
        out,
        tokens: rows,
        heads,
        kvHeads,
        headDim: d,
        cacheRows: rows,
      };
      await cpu.attentionGqa(gqa);
      const results = [y, g, out].map((p) => cpu.view(p, rows * dim).slice());
      // In place (out = q) gives the same answer: each row reads only its own query.
      await cpu.attentionGqa({ ...gqa, out: g });
      expect(cpu.view(g, rows * dim)).toEqual(results[2]);
      return results;
    });
  };
  const one = await run(1);
  const two = await run(2);
  expect(two).toEqual(one);
  expect(one[2]!.some((v) => v !== 0)).toBe(true);
});

test('16-bit weights stay 16-bit: every F16 and BF16 pattern widens exactly, specials included', async () => {
  const cpu = await engine(1);
  for (const dtype of ['F16', 'BF16'] as const) {
    const decode = dtype === 'F16' ? f16ToF64 : bf16ToF64;
    const all = Uint16Array.from({ length: 65_536 }, (_, i) => i);
    const finite = all.filter((b) => Number.isFinite(decode(b)));
    const special = all.filter((b) => !Number.isFinite(decode(b)));
    await cpu.frame(async () => {
      // Finite patterns as W [n/8, 8] through x = I₈: y[r, o] = W[o, r], exactly.
      const outF = finite.length / 8;
      const before = cpu.mark();
      const pw = cpu.putBits(finite);
      expect(cpu.mark() - before).toBe(Math.ceil((finite.length * 2) / 64) * 64); // 2 bytes each
      const eye = Float32Array.from({ length: 64 }, (_, i) => (i % 9 === 0 ? 1 : 0));
      const py = cpu.alloc(8 * outF);
      await cpu.linear16(cpu.put(eye), pw, dtype, py, 8, 8, outF);
      const y = cpu.view(py, 8 * outF);
      for (let o = 0; o < outF; o++)
        for (let r = 0; r < 8; r++) {
          if (y[r * outF + o] !== decode(finite[o * 8 + r]!)) {
            throw new Error(
              `${dtype} 0x${finite[o * 8 + r]!.toString(16)} widened to ${y[r * outF + o]}`,
            );
          }
        }
      // One row of x (a decode step widens in registers): every pattern, ±∞ and NaN included,
      // one per row of W beside zeros, x = ones.
      const rows = new Uint16Array(all.length * 8);
      all.forEach((b, i) => {
        rows[i * 8 + (i % 8)] = b;
      });
      const ps = cpu.alloc(all.length);
      await cpu.linear16(
        cpu.put(new Float32Array(8).fill(1)),
        cpu.putBits(rows),
        dtype,
        ps,
        1,
        8,
        all.length,
      );
      // (+0 + −0 is +0: zeros compare without their sign.)
      const got = Array.from(cpu.view(ps, all.length), (v) => v + 0);
      expect(got).toEqual(Array.from(all, (b) => decode(b) + 0));
      expect(special.length).toBe(dtype === 'F16' ? 2048 : 256);
    });
  }
});

test('bad arguments are typed errors before any kernel runs', async () => {
  const cpu = await engine(2);
  const invalid = { name: 'CpuError', code: 'invalid-argument' };
  await cpu.frame(async () => {
    const p = cpu.alloc(64);
    const ranges = cpu.putInt32(Int32Array.from([0, 3]));
    const gqa = { q: p, k: p, v: p, ranges, out: p, tokens: 1, heads: 4, kvHeads: 2, headDim: 8 };
    await expect(cpu.attentionGqa({ ...gqa, cacheRows: 2 })).rejects.toMatchObject(invalid);
    await expect(cpu.attentionGqa({ ...gqa, kvHeads: 3, cacheRows: 4 })).rejects.toMatchObject(
      invalid,
    );
    const negative = cpu.putInt32(Int32Array.from([-1, 1]));
    await expect(
      cpu.attentionGqa({ ...gqa, ranges: negative, cacheRows: 4 }),
    ).rejects.toMatchObject(invalid);
    await expect(cpu.rope(p, p, p, 1, 1, 7)).rejects.toMatchObject(invalid);
    const ids = cpu.putInt32(Int32Array.from([3, 10]));
    await expect(cpu.embed16(ids, p, 'F16', p, 2, 10, 8)).rejects.toMatchObject(invalid);
    await expect(cpu.rmsnorm(p, p, p, 1, 8, -1)).rejects.toMatchObject(invalid);
    await expect(cpu.rmsnorm(p, p, p, 1.5, 8, 1e-6)).rejects.toMatchObject(invalid);
    await expect(cpu.swiglu(p, p, p, 0, 8)).rejects.toMatchObject(invalid);
    await expect(cpu.linear16(p, p, 'F8' as CpuWeightDtype, p, 1, 4, 4)).rejects.toMatchObject(
      invalid,
    );
  });
});
