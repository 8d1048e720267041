// The CPU engine's grouped-query attention over a KV cache, for Hugging Face decoders and
// encoders. Conventions as in kernels.ts and hf.ts.

import { exp4, hsum, lane0, madd } from './hf-simd';

// ---------------------------------------------------------------------------------------------
// Grouped-query attention over a KV cache

/**
 * Rows [r0, r1) of out [tokens, heads, headDim], row r = token r / heads, head r % heads:
 * softmax(q·kⱼ · scale) · vⱼ over the cache rows j ∈ [ranges[2t], ranges[2t+1]) of token t (i32
 * pairs: causality, padding and a sliding window all make one contiguous range; absolute rows,
 * so one cache buffer may hold a batch's sequences one after another). Head h reads kv head
 * h / (heads / kvHeads) of k and v [cacheRows, kvHeads, headDim]. Softmax in float32 with the
 * maximum subtracted; an empty range gives zeros (a left-pad query, whose output is unused).
 * `scratch`: this thread's floats for the scores (the caller checks the range fits). out may
 * be q (each row reads only its own query), never k or v.
 */
export function attention_gqa(
  q: usize,
  k: usize,
  v: usize,
  ranges: usize,
  out: usize,
  heads: i32,
  kvHeads: i32,
  headDim: i32,
  scale: f32,
  scratch: usize,
  r0: i32,
  r1: i32,
): void {
  const group = heads / kvHeads;
  const vec = headDim & ~3;
  const rowBytes = <usize>headDim * 4;
  const kvStride = <usize>kvHeads * rowBytes;
  for (let r = r0; r < r1; r++) {
    const t = r / heads;
    const kvh = (r % heads) / group;
    const lo = load<i32>(ranges + <usize>t * 8);
    const hi = load<i32>(ranges + <usize>t * 8, 4);
    const qr = q + <usize>r * rowBytes;
    const o = out + <usize>r * rowBytes;
    if (hi <= lo) {
      for (let i = 0; i < headDim; i++) store<f32>(o + <usize>i * 4, 0);
      continue;
    }
    const count = hi - lo;
    let m: f32 = -Infinity;
    for (let j = 0; j < count; j++) {
      const kr = k + <usize>(lo + j) * kvStride + <usize>kvh * rowBytes;
      let acc = f32x4.splat(0);
      for (let i = 0; i < vec; i += 4)
        acc = madd(v128.load(qr + <usize>i * 4), v128.load(kr + <usize>i * 4), acc);
      let s = hsum(acc);
      for (let i = vec; i < headDim; i++) s += load<f32>(qr + <usize>i * 4) * load<f32>(kr + <usize>i * 4);
      s *= scale;
      store<f32>(scratch + <usize>j * 4, s);
      m = max(m, s);
    }
    const mv = f32x4.splat(m);
    let z4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const e = exp4(f32x4.sub(v128.load(scratch + <usize>j * 4), mv));
      v128.store(scratch + <usize>j * 4, e);
      z4 = f32x4.add(z4, e);
    }
    let z = hsum(z4);
    for (; j < count; j++) {
      const e = lane0(exp4(f32x4.splat(load<f32>(scratch + <usize>j * 4) - m)));
      store<f32>(scratch + <usize>j * 4, e);
      z += e;
    }
    // out = Σ eⱼ·vⱼ, one cache row at a time (contiguous reads), then ÷ z. Zeroed only now
    // that q's row is read: out may be q.
    for (let i = 0; i < headDim; i++) store<f32>(o + <usize>i * 4, 0);
    for (let jj = 0; jj < count; jj++) {
      const vr = v + <usize>(lo + jj) * kvStride + <usize>kvh * rowBytes;
      const e = load<f32>(scratch + <usize>jj * 4);
      const ev = f32x4.splat(e);
      for (let i = 0; i < vec; i += 4) {
        const off = <usize>i * 4;
        v128.store(o + off, madd(ev, v128.load(vr + off), v128.load(o + off)));
      }
      for (let i = vec; i < headDim; i++) {
        const off = <usize>i * 4;
        store<f32>(o + off, load<f32>(o + off) + e * load<f32>(vr + off));
      }
    }
    const invz: f32 = 1 / z;
    const iz = f32x4.splat(invz);
    for (let i = 0; i < vec; i += 4) {
      const off = <usize>i * 4;
      v128.store(o + off, f32x4.mul(v128.load(o + off), iz));
    }
    for (let i = vec; i < headDim; i++) {
      const off = <usize>i * 4;
      store<f32>(o + off, load<f32>(o + off) * invz);
    }
  }
}
