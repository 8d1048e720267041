/** Float64 CPU references for the transformer kernels (shaders/*.wgsl); row-major throughout. */

export function layernormF64(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  dim: number,
  eps = 1e-5,
): Float64Array {
  const y = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let v = 0;
    for (let i = 0; i < dim; i++) v += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + eps);
    for (let i = 0; i < dim; i++)
      y[r * dim + i] = (x[r * dim + i]! - mean) * inv * gamma[i]! + beta[i]!;
  }
  return y;
}

/** Softmax of the first `cols` entries of each row; rows are `stride` apart in x, packed in y. */
export function softmaxF64(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  stride = cols,
): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < cols; i++) m = Math.max(m, x[r * stride + i]!);
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp(x[r * stride + i]! - m);
    for (let i = 0; i < cols; i++) y[r * cols + i] = Math.exp(x[r * stride + i]! - m) / s;
  }
  return y;
}

/** h[t] = wte[tokens[t]] + wpe[t mod seq]. */
export function embeddingF64(
  tokens: ArrayLike<number>,
  wte: ArrayLike<number>,
  wpe: ArrayLike<number>,
  dim: number,
  seq: number,
): Float64Array {
  const h = new Float64Array(tokens.length * dim);
  for (let t = 0; t < tokens.length; t++) {
    for (let d = 0; d < dim; d++)
      h[t * dim + d] = wte[tokens[t]! * dim + d]! + wpe[(t % seq) * dim + d]!;
  }
  return h;
}

/** Causal self-attention within each sequence of `seq` tokens; qkv is T×3D ([q|k|v]). */
export function attentionF64(
  qkv: ArrayLike<number>,
  rows: number,
  seq: number,
  heads: number,
  dim: number,
): Float64Array {
  const hd = dim / heads;
  const out = new Float64Array(rows * dim);
  const stride = 3 * dim;
  for (let t = 0; t < rows; t++) {
    const first = t - (t % seq);
    for (let h = 0; h < heads; h++) {
      const scores: number[] = [];
      for (let j = first; j <= t; j++) {
        let s = 0;
        for (let i = 0; i < hd; i++)
          s += qkv[t * stride + h * hd + i]! * qkv[j * stride + dim + h * hd + i]!;
        scores.push(s / Math.sqrt(hd));
      }
      const m = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - m));
      const z = w.reduce((a, b) => a + b, 0);
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let j = first; j <= t; j++)
          acc += w[j - first]! * qkv[j * stride + 2 * dim + h * hd + i]!;
        out[t * dim + h * hd + i] = acc / z;
      }
    }
  }
  return out;
}
