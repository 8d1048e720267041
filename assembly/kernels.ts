// Over 450 lines: gemm (packing, micro-kernel, GELU epilogue) and the shipped model's other kernels share module-private SIMD helpers.
// tessel's CPU engine: float32 kernels in AssemblyScript, compiled to WebAssembly with 128-bit
// SIMD (scripts/build-wasm.mjs builds four variants: relaxed-SIMD FMA or not × shared memory or
// not). Every pointer is a byte offset into the imported memory, laid out by src/cpu/runtime.ts;
// nothing here allocates. Every kernel takes a row range [r0, r1) so src/cpu/pool.ts can split
// one call across threads that share the memory: rows never overlap, so no atomics are needed.

// Register block of the matmul micro-kernel: MR rows of A times NR = 8 columns of B (two
// vectors), 2·MR accumulators. MR = 4 leaves registers spare on x64 (16 XMM) and arm64 (32 V).
const MR: i32 = 4;
const NR: i32 = 8;
/** Depth of one block of K: a panel slice of B (KC × NR floats, 8 KiB) stays in L1. */
export const KC: i32 = 256;
/** Rows of A packed at once (MC × KC floats, 128 KiB) stay in L2. */
export const MC: i32 = 128;
/** Floats of per-thread scratch `gemm` needs: the packed A block plus one edge tile. */
export const SCRATCH_FLOATS: i32 = MC * KC + MR * NR;

// The owner's verification kernels (Freivalds' projections in float64 SIMD).
export * from './verify';
// Hugging Face decoders' and encoders' kernels (RMSNorm, RoPE, SwiGLU, GELU, 16-bit linear, GQA).
export * from './hf';
export * from './hf-linear';
export * from './hf-attention';

const GELU: i32 = 1;
const BIAS: i32 = 2;

@inline
function madd(a: v128, b: v128, c: v128): v128 {
  // Relaxed-SIMD FMA where the browser has it (one rounding, twice the throughput); the same
  // product and sum rounded twice otherwise. Both are within float32's error bound.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Floats `packB` writes for a K × N matrix: ⌈N / 8⌉ panels of K × 8. */
export function packedBFloats(k: i32, n: i32): i32 {
  return ((n + NR - 1) / NR) * k * NR;
}

/**
 * Packs row-major B (K × N, row stride ldb floats) into column panels of 8: panel p holds
 * columns 8p…8p+7 for every k, contiguous, zero past column N. Panels [p0, p1) only, so threads
 * can share the work.
 */
export function packB(b: usize, ldb: i32, k: i32, n: i32, out: usize, p0: i32, p1: i32): void {
  for (let p = p0; p < p1; p++) {
    const col = p * NR;
    const cols = min(NR, n - col);
    let dst = out + <usize>(p * k * NR) * 4;
    for (let kk = 0; kk < k; kk++) {
      const src = b + (<usize>kk * ldb + col) * 4;
      if (cols == NR) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      } else {
        for (let j = 0; j < NR; j++) store<f32>(dst + j * 4, j < cols ? load<f32>(src + j * 4) : 0);
      }
      dst += NR * 4;
    }
  }
}

/** Packs rows [i0, i0 + mc) × columns [k0, k0 + kc) of A into strips of MR rows, k-major. */
function packA(a: usize, lda: i32, i0: i32, mc: i32, k0: i32, kc: i32, out: usize): void {
  for (let s = 0; s < mc; s += MR) {
    const rows = min(MR, mc - s);
    let dst = out + <usize>(s * kc) * 4;
    if (rows == MR) {
      const r0 = a + (<usize>(i0 + s) * lda + k0) * 4;
      const r1 = r0 + <usize>lda * 4;
      const r2 = r1 + <usize>lda * 4;
      const r3 = r2 + <usize>lda * 4;
      let kk = 0;
      // 4 × 4 transposes: four k at a time into four k-major groups of MR.
      for (; kk + 4 <= kc; kk += 4) {
        const x0 = v128.load(r0 + kk * 4);
        const x1 = v128.load(r1 + kk * 4);
        const x2 = v128.load(r2 + kk * 4);
        const x3 = v128.load(r3 + kk * 4);
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        dst += 64;
      }
      for (; kk < kc; kk++) {
        store<f32>(dst, load<f32>(r0 + kk * 4));
        store<f32>(dst, load<f32>(r1 + kk * 4), 4);
        store<f32>(dst, load<f32>(r2 + kk * 4), 8);
        store<f32>(dst, load<f32>(r3 + kk * 4), 12);
        dst += 16;
      }
    } else {
      for (let kk = 0; kk < kc; kk++) {
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(a + (<usize>(i0 + s + r) * lda + k0 + kk) * 4) : 0;
          store<f32>(dst + r * 4, v);
        }
        dst += MR * 4;
      }
    }
  }
}

/** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's GELU, as shaders/matmul.wgsl has it. */
@inline
function gelu4(x: v128): v128 {
  const inner = f32x4.mul(
    f32x4.splat(0.7978845608028654),
    f32x4.add(x, f32x4.mul(f32x4.splat(0.044715), f32x4.mul(x, f32x4.mul(x, x)))),
  );
  return f32x4.mul(f32x4.mul(f32x4.splat(0.5), x), f32x4.add(f32x4.splat(1), tanh4(inner)));
}

/**
 * Rows [r0, r1) of y = GELU(x), tanh form (GPT-2's `gelu_new`, the same gelu4 the GEMM fuses),
 * over rows of `n` floats. y may be x.
 */
export function gelu_tanh(x: usize, y: usize, n: i32, r0: i32, r1: i32): void {
  const from = <usize>r0 * n * 4;
  const end = <usize>r1 * n * 4;
  let o = from;
  for (; o + 16 <= end; o += 16) v128.store(y + o, gelu4(v128.load(x + o)));
  for (; o < end; o += 4) {
    store<f32>(y + o, f32x4.extract_lane(gelu4(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** tanh(y) = 1 − 2 / (e^{2y} + 1), with e^{2y} clamped so it never overflows. */
@inline
function tanh4(y: v128): v128 {
  const e = exp4(f32x4.min(f32x4.mul(y, f32x4.splat(2)), f32x4.splat(80)));
  return f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
}

/**
 * e^x for four lanes, x ≤ 88: x = n·ln2 + r with |r| ≤ ln2/2, e^r by Cephes' degree-6
 * polynomial (≈ 1 ulp), 2^n built in the exponent bits. Below −87 it returns ≈ 1e-38, not 0.
 */
@inline
function exp4(x0: v128): v128 {
  const x = f32x4.max(x0, f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2);
}

/**
 * One MR × 8 tile of C over kc steps: C = acc (first block of K) or C += acc, then, on the last
 * block, + bias and GELU as `flags` say. `rows`, `cols` < MR, 8 at the matrix's edges.
 */
function micro(
  ap: usize,
  bp: usize,
  kc: i32,
  c: usize,
  ldc: i32,
  rows: i32,
  cols: i32,
  first: bool,
  last: bool,
  bias: usize,
  flags: i32,
  tmp: usize,
): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let kk = 0; kk < kc; kk++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += MR * 4;
    bp += NR * 4;
  }
  const full = rows == MR && cols == NR;
  // An edge tile goes through `tmp` (MR × 8, stride 8) so the stores below stay vector stores.
  const dst = full ? c : tmp;
  const ld: usize = full ? <usize>ldc * 4 : NR * 4;
  if (!full && !first) {
    for (let r = 0; r < MR; r++)
      for (let j = 0; j < NR; j++) {
        const inside = r < rows && j < cols;
        store<f32>(tmp + r * NR * 4 + j * 4, inside ? load<f32>(c + (<usize>r * ldc + j) * 4) : 0);
      }
  }
  if (!first) {
    c00 = f32x4.add(c00, v128.load(dst));
    c01 = f32x4.add(c01, v128.load(dst, 16));
    c10 = f32x4.add(c10, v128.load(dst + ld));
    c11 = f32x4.add(c11, v128.load(dst + ld, 16));
    c20 = f32x4.add(c20, v128.load(dst + 2 * ld));
    c21 = f32x4.add(c21, v128.load(dst + 2 * ld, 16));
    c30 = f32x4.add(c30, v128.load(dst + 3 * ld));
    c31 = f32x4.add(c31, v128.load(dst + 3 * ld, 16));
  }
  if (last && flags & BIAS) {
    const bb0 = v128.load(bias);
    const bb1 = v128.load(bias, 16);
    c00 = f32x4.add(c00, bb0);
    c01 = f32x4.add(c01, bb1);
    c10 = f32x4.add(c10, bb0);
    c11 = f32x4.add(c11, bb1);
    c20 = f32x4.add(c20, bb0);
    c21 = f32x4.add(c21, bb1);
    c30 = f32x4.add(c30, bb0);
    c31 = f32x4.add(c31, bb1);
  }
  if (last && flags & GELU) {
    c00 = gelu4(c00);
    c01 = gelu4(c01);
    c10 = gelu4(c10);
    c11 = gelu4(c11);
    c20 = gelu4(c20);
    c21 = gelu4(c21);
    c30 = gelu4(c30);
    c31 = gelu4(c31);
  }
  v128.store(dst, c00);
  v128.store(dst, c01, 16);
  v128.store(dst + ld, c10);
  v128.store(dst + ld, c11, 16);
  v128.store(dst + 2 * ld, c20);
  v128.store(dst + 2 * ld, c21, 16);
  v128.store(dst + 3 * ld, c30);
  v128.store(dst + 3 * ld, c31, 16);
  if (!full) {
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < cols; j++)
        store<f32>(c + (<usize>r * ldc + j) * 4, load<f32>(tmp + r * NR * 4 + j * 4));
  }
}

/**
 * Rows [r0, r1) of C (M × N, row stride ldc) = A (M × K, row stride lda) · B, where `bp` is B
 * packed by `packB`; `flags`: 2 adds `bias` (N floats, padded to a multiple of 8), 1 applies GELU
 * after it. `scratch` is this thread's SCRATCH_FLOATS floats. Rows may split anywhere, but
 * multiples of 4 keep every register block whole.
 */
export function gemm(
  a: usize,
  lda: i32,
  bp: usize,
  c: usize,
  ldc: i32,
  k: i32,
  n: i32,
  bias: usize,
  flags: i32,
  scratch: usize,
  r0: i32,
  r1: i32,
): void {
  const panels = (n + NR - 1) / NR;
  const tmp = scratch + <usize>(MC * KC) * 4;
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = min(KC, k - k0);
    for (let i0 = r0; i0 < r1; i0 += MC) {
      const mc = min(MC, r1 - i0);
      packA(a, lda, i0, mc, k0, kc, scratch);
      for (let p = 0; p < panels; p++) {
        const bpanel = bp + (<usize>(p * k + k0) * NR) * 4;
        const cols = min(NR, n - p * NR);
        const pb = bias + <usize>(p * NR) * 4;
        for (let s = 0; s < mc; s += MR) {
          micro(
            scratch + <usize>(s * kc) * 4,
            bpanel,
            kc,
            c + (<usize>(i0 + s) * ldc + p * NR) * 4,
            ldc,
            min(MR, mc - s),
            cols,
            k0 == 0,
            k0 + kc >= k,
            pb,
            flags,
            tmp,
          );
        }
      }
    }
  }
  if (k == 0) {
    // An empty product: C = 0 (+ bias, GELU), which the loops above never write.
    for (let i = r0; i < r1; i++)
      for (let j = 0; j < n; j++) {
        let v: f32 = flags & BIAS ? load<f32>(bias + j * 4) : 0;
        if (flags & GELU) v = f32x4.extract_lane(gelu4(f32x4.splat(v)), 0);
        store<f32>(c + (<usize>i * ldc + j) * 4, v);
      }
  }
}

/** Rows [r0, r1) of y = layernorm(x) · gamma + beta over rows of `dim` floats (dim % 4 == 0). */
export function layernorm(
  x: usize,
  gamma: usize,
  beta: usize,
  y: usize,
  dim: i32,
  eps: f32,
  r0: i32,
  r1: i32,
): void {
  const inv = f32x4.splat(1 / <f32>dim);
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>(r * dim) * 4;
    const yr = y + <usize>(r * dim) * 4;
    let s = f32x4.splat(0);
    for (let i = 0; i < dim; i += 4) s = f32x4.add(s, v128.load(xr + i * 4));
    const mean = f32x4.splat(sum4(s) / <f32>dim);
    let v = f32x4.splat(0);
    for (let i = 0; i < dim; i += 4) {
      const d = f32x4.sub(v128.load(xr + i * 4), mean);
      v = f32x4.add(v, f32x4.mul(d, d));
    }
    const rstd = f32x4.splat(1 / Mathf.sqrt(sum4(f32x4.mul(v, inv)) + eps));
    for (let i = 0; i < dim; i += 4) {
      const d = f32x4.mul(f32x4.sub(v128.load(xr + i * 4), mean), rstd);
      v128.store(yr + i * 4, f32x4.add(f32x4.mul(d, v128.load(gamma + i * 4)), v128.load(beta + i * 4)));
    }
  }
}

@inline
function sum4(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** Rows [r0, r1) of h = wte[tokens[t]] + wpe[t mod seq] (tokens: u32, checked by the caller). */
export function embedding(
  tokens: usize,
  wte: usize,
  wpe: usize,
  h: usize,
  dim: i32,
  seq: i32,
  r0: i32,
  r1: i32,
): void {
  for (let t = r0; t < r1; t++) {
    const e = wte + <usize>(load<u32>(tokens + t * 4) * dim) * 4;
    const p = wpe + <usize>((t % seq) * dim) * 4;
    const o = h + <usize>(t * dim) * 4;
    for (let i = 0; i < dim; i += 4)
      v128.store(o + i * 4, f32x4.add(v128.load(e + i * 4), v128.load(p + i * 4)));
  }
}

/** Rows [r0, r1) of h += x, rows of `dim` floats. */
export function residual(h: usize, x: usize, dim: i32, r0: i32, r1: i32): void {
  const end = h + <usize>(r1 * dim) * 4;
  let d = x + <usize>(r0 * dim) * 4;
  for (let o = h + <usize>(r0 * dim) * 4; o < end; o += 16) {
    v128.store(o, f32x4.add(v128.load(o), v128.load(d)));
    d += 16;
  }
}

/**
 * Causal self-attention, rows [r0, r1) of `out` (T × dim): row t attends to rows first…t of its
 * own sequence of `seq` (qkv is T × 3·dim, [q | k | v]). `scores` is this thread's seq floats.
 */
export function attention(
  qkv: usize,
  out: usize,
  seq: i32,
  heads: i32,
  dim: i32,
  scores: usize,
  r0: i32,
  r1: i32,
): void {
  const hd = dim / heads;
  const stride = <usize>(3 * dim) * 4;
  const scale: f32 = 1 / Mathf.sqrt(<f32>hd);
  const vec = hd & ~3;
  for (let t = r0; t < r1; t++) {
    const first = t - (t % seq);
    const count = t - first + 1;
    for (let h = 0; h < heads; h++) {
      const q = qkv + <usize>t * stride + <usize>(h * hd) * 4;
      let m: f32 = -Infinity;
      for (let j = 0; j < count; j++) {
        const kr = qkv + <usize>(first + j) * stride + <usize>(dim + h * hd) * 4;
        let acc = f32x4.splat(0);
        for (let i = 0; i < vec; i += 4)
          acc = madd(v128.load(q + i * 4), v128.load(kr + i * 4), acc);
        let s = sum4(acc);
        for (let i = vec; i < hd; i++) s += load<f32>(q + i * 4) * load<f32>(kr + i * 4);
        s *= scale;
        store<f32>(scores + j * 4, s);
        m = max(m, s);
      }
      // Softmax weights, four at a time (the tail of `scores` past `count` is never read).
      const mv = f32x4.splat(m);
      let z4 = f32x4.splat(0);
      let j = 0;
      for (; j + 4 <= count; j += 4) {
        const w = exp4(f32x4.sub(v128.load(scores + j * 4), mv));
        v128.store(scores + j * 4, w);
        z4 = f32x4.add(z4, w);
      }
      let z = sum4(z4);
      for (; j < count; j++) {
        const w = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(scores + j * 4) - m)), 0);
        store<f32>(scores + j * 4, w);
        z += w;
      }
      const o = out + <usize>(t * dim + h * hd) * 4;
      const invz: f32 = 1 / z;
      for (let i = 0; i < vec; i += 4) {
        let acc = f32x4.splat(0);
        for (let jj = 0; jj < count; jj++) {
          const vr = qkv + <usize>(first + jj) * stride + <usize>(2 * dim + h * hd + i) * 4;
          acc = madd(v128.load32_splat(scores + jj * 4), v128.load(vr), acc);
        }
        v128.store(o + i * 4, f32x4.mul(acc, f32x4.splat(invz)));
      }
      for (let i = vec; i < hd; i++) {
        let acc: f32 = 0;
        for (let jj = 0; jj < count; jj++)
          acc +=
            load<f32>(scores + jj * 4) *
            load<f32>(qkv + <usize>(first + jj) * stride + <usize>(2 * dim + h * hd + i) * 4);
        store<f32>(o + i * 4, acc * invz);
      }
    }
  }
}
